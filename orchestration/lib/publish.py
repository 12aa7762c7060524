"""Write-audit-publish: copy the audited marts out of the working database for BI, atomically.

- `<warehouse>/published/clientele.duckdb`: schema `marts` with every mart plus `marts._publish_log`; built in
  a temporary file beside it and renamed over the old one, so a reader sees the old or the new file, never a
  partial one (a reader holding the old file keeps reading the old inode).
- `<warehouse>/published/parquet`: a symlink to `parquet-<run>-<time>/` with one Parquet file per mart; the link
  is swapped atomically, the previous directory removed afterwards.
- Identifier columns (yml `meta: {pii: true}`) are published as salted SHA-256 hashes unless masking is off.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from orchestration.lib.settings import WarehousePaths, setting
from orchestration.lib.spark_tables import attach_built_tables

ENV_PII_SALT = "CLIENTELE_PII_SALT"
PUBLISH_LOG = "_publish_log"
PUBLISH_LOG_DDL = f"""
create table if not exists marts.{PUBLISH_LOG} (
    run_id varchar not null,
    as_of_date date not null,
    published_at timestamp not null,
    row_counts json not null,
    checks_passed integer not null,
    checks_warned integer not null,
    warned_checks varchar[] not null,
    identifiers_masked boolean not null
)"""


@dataclass(frozen=True)
class PublishRequest:
    run_id: str
    as_of: date
    marts: list[str]
    pii_columns: dict[str, list[str]] = field(default_factory=dict)
    mask_identifiers: bool = True
    salt: str = ""
    checks_passed: int = 0
    warned_checks: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PublishResult:
    database: Path
    parquet_dir: Path
    row_counts: dict[str, int]
    published_at: datetime


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _select_list(conn: duckdb.DuckDBPyConnection, mart: str, hashed: set[str]) -> str:
    columns = conn.execute(
        "select column_name from duckdb_columns() where database_name = 'working' and schema_name = 'marts' "
        "and table_name = ? order by column_index",
        [mart],
    ).fetchall()
    if not columns:
        raise LookupError(f"mart {mart} is missing from the working database")
    return ", ".join(
        f"case when {_quote(name)} is null then null else sha256($salt || {_quote(name)}) end as {_quote(name)}"
        if name in hashed
        else _quote(name)
        for (name,) in columns
    )


def _carry_publish_log(conn: duckdb.DuckDBPyConnection, previous: Path) -> None:
    conn.execute(PUBLISH_LOG_DDL)
    if not previous.exists():
        return
    conn.execute(f"attach {_literal(previous)} as previous (read_only)")
    try:
        has_log = conn.execute(
            "select count(*) from duckdb_tables() where database_name = 'previous' and schema_name = 'marts' "
            "and table_name = ?",
            [PUBLISH_LOG],
        ).fetchall()[0][0]
        if has_log:
            conn.execute(f"insert into marts.{PUBLISH_LOG} by name select * from previous.marts.{PUBLISH_LOG}")
    finally:
        conn.execute("detach previous")


def _swap_parquet_link(link: Path, target: Path) -> None:
    """Point `link` at `target` atomically; remove the directory it pointed at before."""
    previous = link.resolve() if link.is_symlink() else None
    if link.exists() and not link.is_symlink():  # a plain directory from an older layout
        shutil.rmtree(link)
    staged_link = link.with_name(f".{link.name}.{target.name}.link")
    staged_link.unlink(missing_ok=True)
    staged_link.symlink_to(target.name)
    os.replace(staged_link, link)
    if previous is not None and previous != target.resolve() and previous.exists():
        shutil.rmtree(previous)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def publish_marts(paths: WarehousePaths, request: PublishRequest) -> PublishResult:
    """Copy every mart from the working database into a new published file and Parquet set, then swap."""
    paths.published_dir.mkdir(parents=True, exist_ok=True)
    staged = paths.published_dir / f".{paths.published_db.name}.{request.run_id}.tmp"
    staged.unlink(missing_ok=True)
    published_at = datetime.now(UTC).replace(tzinfo=None)
    # unique per attempt: a retried step must never remove the directory the live link points at
    parquet_target = paths.published_dir / f"parquet-{request.run_id[:8]}-{published_at:%Y%m%dT%H%M%S%f}"
    parquet_target.mkdir()
    row_counts: dict[str, int] = {}
    try:
        with duckdb.connect(str(staged)) as conn:
            conn.execute("set memory_limit = ?", [str(setting("duckdb_memory_limit"))])
            attach_built_tables(conn, paths, "working")
            conn.execute("create schema marts")
            for mart in request.marts:
                hashed = set(request.pii_columns.get(mart, [])) if request.mask_identifiers else set()
                select_list = _select_list(conn, mart, hashed)
                conn.execute(
                    f"create table marts.{_quote(mart)} as select {select_list} from working.marts.{_quote(mart)}",
                    {"salt": request.salt} if hashed else {},
                )
                row_counts[mart] = conn.execute(f"select count(*) from marts.{_quote(mart)}").fetchall()[0][0]
                parquet_file = parquet_target / f"{mart}.parquet"
                conn.execute(
                    f"copy marts.{_quote(mart)} to {_literal(parquet_file)} (format parquet, compression zstd)"
                )
            conn.execute("detach working")
            _carry_publish_log(conn, paths.published_db)
            conn.execute(
                f"insert into marts.{PUBLISH_LOG} values (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    request.run_id,
                    request.as_of,
                    published_at,
                    json.dumps(row_counts),
                    request.checks_passed,
                    len(request.warned_checks),
                    request.warned_checks,
                    request.mask_identifiers,
                ],
            )
            log_file = parquet_target / f"{PUBLISH_LOG}.parquet"
            conn.execute(f"copy marts.{PUBLISH_LOG} to {_literal(log_file)} (format parquet)")
            conn.execute("checkpoint")
        with open(staged, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(staged, paths.published_db)
        _fsync_directory(paths.published_dir)
    except BaseException:
        staged.unlink(missing_ok=True)
        shutil.rmtree(parquet_target, ignore_errors=True)
        raise
    _swap_parquet_link(paths.parquet_dir, parquet_target)
    _fsync_directory(paths.published_dir)
    return PublishResult(paths.published_db, paths.parquet_dir, row_counts, published_at)
