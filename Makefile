# Two commands for a newcomer: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9

export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export CLIENTELE_INBOX ?= $(CURDIR)/data/inbox
export CLIENTELE_WAREHOUSE ?= $(CURDIR)/warehouse

# One stamp per install flavour, all from uv.lock: core (run, ui), core + dev tools (lint, bench), core + Spark
# (`make spark`), everything (test; also the stamp helpers build by name). The smaller flavours keep whatever
# another one installed (--inexact); the full one makes the virtualenv exactly the lock again.
CORE := $(VENV)/.installed-core
DEV := $(VENV)/.installed-dev
SPARK := $(VENV)/.installed-spark
FULL := $(VENV)/.installed

# uv itself comes from PyPI through the virtualenv's pip; only the Python that made the virtualenv is used.
define sync
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --locked --quiet --compile-bytecode --no-python-downloads --python $(BIN)/python $(1)
	touch $@
endef

.PHONY: run test test-unit ui lint bench spark clean

$(CORE): pyproject.toml uv.lock
	$(call sync,--inexact)

$(DEV): pyproject.toml uv.lock
	$(call sync,--inexact --extra dev)

$(SPARK): pyproject.toml uv.lock
	$(call sync,--inexact --extra spark)

$(FULL): pyproject.toml uv.lock
	$(call sync,--extra dev --extra spark)

run: $(CORE)
	$(BIN)/clientele demo-data --customers 5000 --seed 42 --out $(CLIENTELE_INBOX) --if-empty
	$(BIN)/clientele run

test: $(FULL)
	$(BIN)/python -m pytest --durations=20

# the fast loop: no dbt build, no pipeline run, no browser
test-unit: $(DEV)
	$(BIN)/python -m pytest tests/unit -m "not slow"

spark: $(SPARK)

lint: $(DEV)
	$(BIN)/ruff check orchestration expectations clientele_clv clientele_demo tests benchmarks
	$(BIN)/ruff format --check orchestration expectations clientele_clv clientele_demo tests benchmarks
	mkdir -p $(CLIENTELE_WAREHOUSE)
	$(BIN)/sqlfluff lint dbt_project/models

ui: $(CORE)
	$(BIN)/clientele ui

bench: $(DEV)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf warehouse data/inbox .dagster_home dbt_project/target dbt_project/logs
