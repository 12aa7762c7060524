"""The lake: raw tables as Parquet under `<warehouse>/lake/raw/<table>/`, readable by DuckDB and Spark alike.

Ingest loads into the working DuckDB database (one code path); after each load the touched tables are copied
out as Parquet so a Spark build (dbt target `spark`) reads the same rows. A table is replaced by renaming a
freshly written directory into place, so a reader never sees a half-written table.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import duckdb

RAW_LAKE_SCHEMA = "raw"
PARQUET_FILE = "part-00000.parquet"


def lake_table_dir(lake_dir: Path, schema: str, table: str) -> Path:
    return lake_dir / schema / table


def land_table_as_parquet(conn: duckdb.DuckDBPyConnection, lake_dir: Path, schema: str, table: str) -> Path:
    """Copy `<schema>.<table>` of the DuckDB database to `<lake>/<schema>/<table>/` (replacing it)."""
    target = lake_table_dir(lake_dir, schema, table)
    target.parent.mkdir(parents=True, exist_ok=True)
    fresh = target.parent / f".{table}.{uuid.uuid4().hex}"
    fresh.mkdir()
    try:
        quoted = f'"{schema}"."{table}"'
        conn.execute(
            f"COPY (SELECT * FROM {quoted}) TO '{(fresh / PARQUET_FILE).as_posix()}' "
            "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)"
        )
        retired = target.parent / f".{table}.retired.{uuid.uuid4().hex}"
        if target.exists():
            target.rename(retired)
        fresh.rename(target)
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
    return target


def land_raw_tables(conn: duckdb.DuckDBPyConnection, lake_dir: Path, tables: list[str]) -> list[Path]:
    """Land `raw.<table>` for each table (entity tables, `_quarantine`, `_ingest_ledger`)."""
    return [land_table_as_parquet(conn, lake_dir, RAW_LAKE_SCHEMA, table) for table in tables]


def is_landed(lake_dir: Path, schema: str, table: str) -> bool:
    return (lake_table_dir(lake_dir, schema, table) / PARQUET_FILE).exists()
