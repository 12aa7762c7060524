"""Where things live and which knobs are set: paths from the environment, thresholds from dbt vars."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
PROFILES_DIR = Path(__file__).resolve().parents[1] / "profiles"
RAW_SOURCES_YML = DBT_PROJECT_DIR / "models" / "staging" / "crm" / "_crm__sources.yml"

ENV_INBOX = "CLIENTELE_INBOX"
ENV_WAREHOUSE = "CLIENTELE_WAREHOUSE"
ENV_AS_OF = "CLIENTELE_AS_OF_DATE"
ENV_EXTRA_PROFILES = "CLIENTELE_PROFILES_DIR"


@dataclass(frozen=True)
class WarehousePaths:
    """Every file location derived from the warehouse directory."""

    warehouse_dir: Path

    @property
    def working_db(self) -> Path:
        return self.warehouse_dir / "clientele.duckdb"

    @property
    def published_dir(self) -> Path:
        return self.warehouse_dir / "published"

    @property
    def published_db(self) -> Path:
        return self.published_dir / "clientele.duckdb"

    @property
    def parquet_dir(self) -> Path:
        return self.published_dir / "parquet"

    @property
    def lake_dir(self) -> Path:
        """Parquet both engines read: `raw/<table>/` after each ingest, `marts/<mart>/` from a Spark build."""
        return self.warehouse_dir / "lake"

    @property
    def spark_dir(self) -> Path:
        """The Spark session's metastore and managed tables (the `spark` dbt target, session method)."""
        return self.warehouse_dir / "spark"

    @property
    def spark_tables_dir(self) -> Path:
        """Where the session's managed tables are written (profiles.yml `spark.sql.warehouse.dir`)."""
        return self.spark_dir / "tables"

    @property
    def writer_lock(self) -> Path:
        return self.warehouse_dir / ".writer.lock"

    @property
    def dbt_target_dir(self) -> Path:
        """dbt artifacts of this warehouse's runs (its partial-parse cache makes the next run start fast)."""
        return self.warehouse_dir / ".dbt_target"

    @property
    def logs_dir(self) -> Path:
        """Full logs of the runs `clientele run` executed (the console shows one line per event)."""
        return self.warehouse_dir / "logs"

    @property
    def staging_dir(self) -> Path:
        """Scratch space for transcoded inputs; cleaned after each file."""
        return self.warehouse_dir / ".staging"


def default_inbox() -> Path:
    return Path(os.environ.get(ENV_INBOX, "data/inbox")).resolve()


def default_warehouse() -> Path:
    return Path(os.environ.get(ENV_WAREHOUSE, "warehouse")).resolve()


@cache
def dbt_vars() -> dict:
    """The project's thresholds and windows: `vars:` of dbt_project.yml, the one settings file."""
    with open(DBT_PROJECT_DIR / "dbt_project.yml", encoding="utf-8") as fh:
        return dict(yaml.safe_load(fh).get("vars", {}))


def setting(name: str):
    """One threshold from dbt_project.yml `vars:`; a missing name is a programming error."""
    values = dbt_vars()
    if name not in values:
        raise KeyError(f"setting {name!r} is not defined under vars: in dbt_project/dbt_project.yml")
    return values[name]


def parse_as_of(value: str | date | None) -> date:
    """`as_of` from the CLI, a run tag or a schedule; None means today."""
    if value is None or value == "":
        return date.today()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"as_of must be YYYY-MM-DD, got {value!r}") from exc
