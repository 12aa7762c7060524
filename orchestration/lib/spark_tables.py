"""Which engine builds the models, whether this install can use Spark, and reading what a Spark build wrote
through DuckDB.

The `spark` dbt target (session method) keeps its tables as Parquet directories under
`<warehouse>/spark/tables/<schema>.db/<table>/`. The steps after dbt (quality suites, asset metadata, publishing)
read the built tables through a DuckDB connection; on Spark that connection gets one view per Spark table, so
those steps run the same SQL on either engine.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.util import find_spec
from pathlib import Path

import duckdb
import yaml

from orchestration.lib.settings import DBT_PROJECT_DIR, WarehousePaths

ENV_DBT_TARGET = "CLIENTELE_DBT_TARGET"
DEFAULT_TARGET = "duckdb"
# Spark is the optional `spark` extra (dbt-spark, pyspark[connect]); the core install leaves both out.
SPARK_INSTALL_COMMAND = "make spark"


class SparkSupportMissing(RuntimeError):
    """A Spark dbt target was asked for, but what it needs is not installed."""


def dbt_target() -> str:
    """The dbt target of this process: env CLIENTELE_DBT_TARGET (`clientele run --target`), else duckdb."""
    return os.environ.get(ENV_DBT_TARGET, "").strip() or DEFAULT_TARGET


def builds_on_spark(target: str | None = None) -> bool:
    return (target or dbt_target()).startswith("spark")


def _profile_method(target: str) -> str | None:
    """The connection method of a dbt target in the project's profiles.yml (session, thrift, http)."""
    profiles = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text(encoding="utf-8")) or {}
    for profile in profiles.values():
        output = (profile.get("outputs") or {}).get(target) if isinstance(profile, dict) else None
        if output:
            return output.get("method")
    return None


def require_spark_support(target: str | None = None) -> None:
    """Raise SparkSupportMissing, saying how to install it, when a Spark target cannot run here: every Spark
    target needs dbt-spark; the `session` method also needs pyspark in this process."""
    target = target or dbt_target()
    if not builds_on_spark(target):
        return
    needed = {"dbt-spark": "dbt.adapters.spark"}
    if _profile_method(target) == "session":
        needed["pyspark"] = "pyspark"
    missing = [package for package, module in needed.items() if find_spec(module) is None]
    if missing:
        raise SparkSupportMissing(
            f"Spark support is not installed (dbt target {target!r} needs {' and '.join(missing)}): "
            f"run `{SPARK_INSTALL_COMMAND}`, which installs the project's `spark` extra from uv.lock."
        )


def spark_tables(paths: WarehousePaths) -> dict[tuple[str, str], Path]:
    """(schema, table) -> Parquet directory of every table the local Spark session's metastore manages."""
    root = paths.spark_tables_dir
    if not root.exists():
        return {}
    return {
        (schema_dir.name.removesuffix(".db"), table_dir.name): table_dir
        for schema_dir in sorted(root.glob("*.db"))
        for table_dir in sorted(schema_dir.iterdir())
        if table_dir.is_dir() and any(table_dir.rglob("*.parquet"))
    }


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def attach_spark_tables(conn: duckdb.DuckDBPyConnection, paths: WarehousePaths, database: str | None = None) -> int:
    """Create `[database.]<schema>.<table>` views over the Spark tables' Parquet (partition columns included)."""
    prefix = f'"{database}".' if database else ""
    created_schemas: set[str] = set()
    tables = spark_tables(paths)
    for (schema, table), directory in tables.items():
        if schema not in created_schemas:
            conn.execute(f'create schema if not exists {prefix}"{schema}"')
            created_schemas.add(schema)
        scan = (
            f"read_parquet({_literal((directory / '**' / '*.parquet').as_posix())}, "
            "hive_partitioning = true, union_by_name = true)"
        )
        # Spark writes instants (UTC-adjusted); the marts' timestamps are naive UTC, as DuckDB builds them.
        instants = [
            name
            for name, data_type, *_ in conn.execute(f"describe select * from {scan}").fetchall()
            if data_type == "TIMESTAMP WITH TIME ZONE"
        ]
        replace = (
            " replace (" + ", ".join(f'"{name}" at time zone \'UTC\' as "{name}"' for name in instants) + ")"
            if instants
            else ""
        )
        conn.execute(f'create or replace view {prefix}"{schema}"."{table}" as select *{replace} from {scan}')
    return len(tables)


def attach_built_tables(conn: duckdb.DuckDBPyConnection, paths: WarehousePaths, alias: str) -> None:
    """Attach what the models were built into as database `alias`: the working DuckDB file, or Spark's tables."""
    if builds_on_spark():
        conn.execute(f"attach ':memory:' as \"{alias}\"")
        attach_spark_tables(conn, paths, alias)
    else:
        conn.execute(f'attach {_literal(str(paths.working_db))} as "{alias}" (read_only)')


@contextmanager
def built_tables_reader(paths: WarehousePaths) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only view of the built models: the working DuckDB file, or views over Spark's tables."""
    if builds_on_spark():
        conn = duckdb.connect()
        conn.execute("SET TimeZone = 'UTC'")
        attach_spark_tables(conn, paths)
    else:
        conn = duckdb.connect(str(paths.working_db), read_only=True)
    try:
        yield conn
    finally:
        conn.close()
