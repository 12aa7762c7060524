# Two commands for a newcomer: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed

export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export CLIENTELE_INBOX ?= $(CURDIR)/data/inbox
export CLIENTELE_WAREHOUSE ?= $(CURDIR)/warehouse

.PHONY: run test ui lint bench clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/clientele demo-data --customers 5000 --seed 42 --out $(CLIENTELE_INBOX) --if-empty
	$(BIN)/clientele run

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check orchestration expectations clientele_clv tests benchmarks
	$(BIN)/ruff format --check orchestration expectations clientele_clv tests benchmarks
	mkdir -p $(CLIENTELE_WAREHOUSE)
	$(BIN)/sqlfluff lint dbt_project/models

ui: $(STAMP)
	$(BIN)/clientele ui

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf warehouse data/inbox .dagster_home dbt_project/target dbt_project/logs
