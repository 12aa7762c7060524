"""Write-audit-publish: copy the audited marts out of the working database for BI, atomically.

- `<warehouse>/published/clientele.duckdb`: schema `marts` with every mart, `marts._publish_log` and
  `marts._data_dictionary`; schema `audit` with the quarantine and the ingest ledger (publish_audit.py). Table and
  column comments carry the dbt descriptions (publish_docs.py). Written with DuckDB storage version
  `PUBLISHED_STORAGE_VERSION`, so DuckDB 1.x clients (most BI drivers) open it. Built in a temporary file beside
  it and renamed over the old one: a reader sees the old or the new file, never a partial one, and a reader
  holding the old file (read-only or read-write) keeps reading the old inode. Publishing never opens the live
  file, so no reader can make it fail.
- Only what changed is written (publish_changes.py): the temporary file starts as a byte copy of the previous
  publication, marts whose masked content is unchanged stay as they are, `orders` is rewritten only in the
  orders that changed (publish_rows.py) and in Parquet only in the order months whose rows changed, and
  unchanged Parquet files are hard links to the previous set. Without an intact previous publication (the first
  one, a new layout, a damaged file) everything is written afresh.
- `<warehouse>/published/parquet`: a symlink to `parquet-<run>-<time>/` with one Parquet file per table
  (`audit/` for the audit tables; `orders/order_month=YYYY-MM/` directories for the orders), descriptions in
  the key-value metadata (the run and the as-of date are in `_publish_log`); `<warehouse>/published/docs`: a
  symlink to `docs-<run>-<time>/` with the static dbt docs site (`index.html`), when one is given. Each link is
  swapped atomically after the file is renamed; the directories they pointed at before are removed.
- Identifier columns (yml `meta: {pii: true}`) are published as salted SHA-256 hashes, and e-mails and phone
  numbers anywhere else in text are masked by content (publish_masking.py), unless masking is off.
- The publish log is kept in the working database (`audit.publish_log`) and copied into each publication.
- The publication only moves forward: a run as of a date before the current publication's publishes nothing.
- Leftovers of a publication killed half-way (temporary files, staged links, unlinked directories) are removed
  when the next one starts; publications run under the warehouse writer lock, so none is in progress then.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from hashlib import sha256
from pathlib import Path

import duckdb

from orchestration.lib import publish_changes
from orchestration.lib.ingest import ledger
from orchestration.lib.publish_audit import (
    AUDIT_SCHEMA,
    AUDIT_TABLES,
    audit_selects,
    customer_records,
    table_exists,
)
from orchestration.lib.publish_changes import (
    PARTITIONED,
    Fingerprint,
    PreviousFingerprints,
    TablePlan,
    fingerprint,
    part_filter,
    schema_key,
)
from orchestration.lib.publish_docs import (
    DATA_DICTIONARY,
    DATA_DICTIONARY_DOC,
    PARQUET_COMPRESSION,
    ColumnDoc,
    TableDoc,
    comment_on,
    create_data_dictionary,
    kv_metadata,
    quote,
    sql_literal,
)
from orchestration.lib.publish_masking import KNOWN_PHONES_TABLE, install_masking, masked_select_list
from orchestration.lib.publish_rows import changed_known_phones, publish_by_row, record_rows, watermark
from orchestration.lib.settings import WarehousePaths, setting
from orchestration.lib.spark_tables import attach_built_tables, builds_on_spark

PUBLISHED_STORAGE_VERSION = "v1.0.0"  # readable by every DuckDB since 1.0
PUBLISH_LOG = "_publish_log"
WORKING_LOG = f"{AUDIT_SCHEMA}.publish_log"  # in the working database: the authoritative log
PUBLISH_LOG_COLUMNS = """(
    run_id varchar not null,
    as_of_date date not null,
    published_at timestamp not null,
    row_counts json not null,
    checks_passed integer not null,
    checks_warned integer not null,
    warned_checks varchar[] not null,
    identifiers_masked boolean not null,
    files_included integer[]
)"""
PUBLISH_LOG_DOC = TableDoc(
    "One row per publication: which run published the marts, as of which date, with which row counts and checks.",
    {
        "run_id": ColumnDoc("Dagster run that published."),
        "as_of_date": ColumnDoc("The as-of date the marts were computed for."),
        "published_at": ColumnDoc("When the publication was written (UTC)."),
        "row_counts": ColumnDoc("Rows per published mart (JSON object)."),
        "checks_passed": ColumnDoc("Checks that passed in the run.", "count"),
        "checks_warned": ColumnDoc("Checks that failed without blocking (warnings).", "count"),
        "warned_checks": ColumnDoc("The checks that warned (asset / check)."),
        "identifiers_masked": ColumnDoc("True when e-mails and phone numbers were published masked."),
        "files_included": ColumnDoc(
            "Export files whose rows the publication includes (audit.ingest_ledger.file_id: accepted or released)."
        ),
    },
)
PARQUET_LINK, DOCS_LINK = "parquet", "docs"


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
    docs: dict[str, TableDoc] = field(default_factory=dict)  # mart -> description and column docs
    docs_site: Path | None = None  # a self-contained HTML page (dbt docs --static) to publish as docs/index.html


@dataclass(frozen=True)
class PublishResult:
    database: Path
    parquet_dir: Path
    row_counts: dict[str, int]
    published_at: datetime
    docs_dir: Path | None = None
    written: dict[str, str] = field(default_factory=dict)  # mart -> written / unchanged / "k of n parts rewritten"
    seconds: dict[str, float] = field(default_factory=dict)  # phase or "mart:<name>" -> wall seconds


class _Stopwatch:
    """Wall seconds per named phase of a publication (a nightly publication is judged by where they go)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


@dataclass(frozen=True)
class PublicationKept:
    """Nothing published: the current publication is as of a later date than the run."""

    as_of: date
    run_id: str
    requested_as_of: date


@dataclass(frozen=True)
class Publication:
    as_of: date
    run_id: str


def _swap_link(link: Path, target: Path) -> None:
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


def remove_leftovers(paths: WarehousePaths) -> list[Path]:
    """Delete what a killed publication left: temporary copies of the published file (and their WAL), staged
    links, and `parquet-*` / `docs-*` directories no live link points at. Call it under the writer lock."""
    directory = paths.published_dir
    if not directory.exists():
        return []
    removed = list(directory.glob(f".{paths.published_db.name}.*.tmp*"))
    for link_name in (PARQUET_LINK, DOCS_LINK):
        removed += directory.glob(f".{link_name}.*.link")
        link = directory / link_name
        live = link.resolve() if link.is_symlink() else None
        removed += [d for d in directory.glob(f"{link_name}-*") if d.is_dir() and d.resolve() != live]
    for path in removed:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    return removed


def _attach_working(conn: duckdb.DuckDBPyConnection, paths: WarehousePaths) -> str:
    """Attach the working database read-write as `working` (the publish log lives there) and return the
    catalog the marts are read from: `working`, or `built` with views over Spark's tables."""
    conn.execute(f"attach {sql_literal(str(paths.working_db))} as working")
    if builds_on_spark():
        attach_built_tables(conn, paths, "built")
        return "built"
    return "working"


def _ensure_working_log(conn: duckdb.DuckDBPyConnection, paths: WarehousePaths) -> None:
    """Create `working.audit.publish_log`; the first time, fill it from the published file's log, read from a
    byte copy (the live file may be held by a reader in any mode). Creation and filling commit together."""
    if table_exists(conn, "working", AUDIT_SCHEMA, "publish_log"):
        conn.execute(f"alter table working.{WORKING_LOG} add column if not exists files_included integer[]")
        return
    copy = paths.published_dir / f".{paths.published_db.name}.migrate-{os.getpid()}.tmp"
    previous_log = None
    try:
        if paths.published_db.exists():
            shutil.copyfile(paths.published_db, copy)
            conn.execute(f"attach {sql_literal(str(copy))} as previous (read_only)")
            if table_exists(conn, "previous", "marts", PUBLISH_LOG):
                previous_log = f"previous.marts.{PUBLISH_LOG}"
        conn.execute("begin")
        try:
            conn.execute(f"create schema if not exists working.{AUDIT_SCHEMA}")
            conn.execute(f"create table working.{WORKING_LOG} {PUBLISH_LOG_COLUMNS}")
            if previous_log:
                conn.execute(f"insert into working.{WORKING_LOG} by name select * from {previous_log}")
            conn.execute("commit")
        except BaseException:
            conn.execute("rollback")
            raise
    finally:
        conn.execute("detach database if exists previous")
        copy.unlink(missing_ok=True)


def _current(conn: duckdb.DuckDBPyConnection) -> Publication | None:
    row = conn.execute(
        f"select as_of_date, run_id from working.{WORKING_LOG} order by as_of_date desc, published_at desc limit 1"
    ).fetchall()
    return Publication(*row[0]) if row else None


def current_publication(paths: WarehousePaths) -> Publication | None:
    """The newest publication by as-of date, from the working database's publish log (migrated on first use).
    Opens the working database read-write: call it under the writer lock."""
    if not paths.working_db.exists():
        return None
    with duckdb.connect() as conn:
        conn.execute(f"attach {sql_literal(str(paths.working_db))} as working")
        _ensure_working_log(conn, paths)
        return _current(conn)


def _write_marts(
    conn: duckdb.DuckDBPyConnection,
    request: PublishRequest,
    source: str,
    previous: PreviousFingerprints | None,
    stopwatch: _Stopwatch,
) -> dict[str, TablePlan]:
    """Bring every mart in `published` to its masked content: unchanged marts are left, changed ones rewritten
    (the order history by row, another partitioned mart only in its changed parts); marts no longer published
    are dropped."""
    plans: dict[str, TablePlan] = {}
    phones_changed = None
    if previous is not None:
        with stopwatch.phase("known phones compared"):
            phones_changed = changed_known_phones(conn, previous.known_phones, request.mask_identifiers)
    for mart in request.marts:
        with stopwatch.phase(f"mart:{mart}"):
            plans[mart] = _write_mart(conn, request, source, previous, mart, phones_changed)
    kept = {*request.marts, PUBLISH_LOG, DATA_DICTIONARY}
    for (table,) in conn.execute(
        "select table_name from duckdb_tables() where database_name = 'published' and schema_name = 'marts'"
    ).fetchall():
        if table not in kept:
            conn.execute(f"drop table published.marts.{quote(table)}")
    return plans


def _write_mart(
    conn: duckdb.DuckDBPyConnection,
    request: PublishRequest,
    source: str,
    previous: PreviousFingerprints | None,
    mart: str,
    phones_changed: int | None,
) -> TablePlan:
    """One mart's plan, carried out in `published`."""
    hashed = set(request.pii_columns.get(mart, []))
    columns = masked_select_list(conn, source, "marts", mart, hashed=hashed, mask=request.mask_identifiers)
    target, masked = f"published.marts.{quote(mart)}", f"(select {columns} from {source}.marts.{quote(mart)})"
    key = schema_key(conn, source, mart, columns, repr(request.docs.get(mart)), _masking_key(request))
    # a mart with an as_of_date column changes with the date: no need to fingerprint it to know
    new_date = previous is not None and previous.as_of != request.as_of
    dated = new_date and _has_column(conn, source, mart, "as_of_date")
    built_upon = previous is not None and not dated and table_exists(conn, "published", "marts", mart)
    if built_upon:
        by_row = publish_by_row(
            conn,
            source,
            mart,
            previous.tables.get(mart),
            key,
            columns,
            (hashed, request.mask_identifiers),
            phones_changed,
        )
        if by_row is not None:
            return by_row
    newest_rebuild = watermark(conn, source, mart)
    if built_upon:
        new = fingerprint(conn, masked, mart, key)
        plan = publish_changes.plan(mart, replace(new, watermark=newest_rebuild), previous.tables.get(mart))
    else:
        plan = TablePlan(mart, Fingerprint(key, {}, newest_rebuild))  # content fingerprinted once written
    if plan.rewrite_all:
        conn.execute(f"create or replace table {target} as select * from {masked}")
    else:
        if plan.drop_parts:
            conn.execute(f"delete from {target} where {part_filter(mart, plan.drop_parts)}")
        if plan.rewrite_parts:
            conn.execute(f"insert into {target} select * from {masked} where {part_filter(mart, plan.rewrite_parts)}")
    if not plan.fingerprint.parts and plan.rewrite_all:
        plan = TablePlan(mart, replace(fingerprint(conn, target, mart, key), watermark=newest_rebuild))
    return plan


def _masking_key(request: PublishRequest) -> str:
    """What of the masking the select list does not show: the salt (a new salt publishes every hash anew)."""
    return sha256(request.salt.encode()).hexdigest() if request.mask_identifiers else ""


def _has_column(conn: duckdb.DuckDBPyConnection, catalog: str, table: str, column: str) -> bool:
    return bool(
        conn.execute(
            "select 1 from duckdb_columns() where database_name = ? and schema_name = 'marts' and table_name = ? "
            "and column_name = ?",
            [catalog, table, column],
        ).fetchall()
    )


def _write_audit_tables(conn: duckdb.DuckDBPyConnection, request: PublishRequest) -> dict[tuple[str, str], TableDoc]:
    docs = {}
    for name, select in audit_selects(conn, "working", request.mask_identifiers).items():
        conn.execute(f"create or replace table published.{AUDIT_SCHEMA}.{quote(name)} as {select}")
        docs[(AUDIT_SCHEMA, name)] = AUDIT_TABLES[name][1]
    return docs


def _previous_publication(
    conn: duckdb.DuckDBPyConnection, paths: WarehousePaths, current: Publication | None
) -> PreviousFingerprints | None:
    """The fingerprints of the live publication, when it can be the starting point of the next one."""
    if current is None or not paths.published_db.exists() or not paths.parquet_dir.is_symlink():
        return None
    previous = publish_changes.load_previous(conn, current.as_of)
    return previous if previous is not None and previous.run_id == current.run_id else None


def _attach_published(
    conn: duckdb.DuckDBPyConnection, paths: WarehousePaths, staged: Path, previous: PreviousFingerprints | None
) -> PreviousFingerprints | None:
    """Attach the temporary file as `published`: a byte copy of the live publication when `previous` describes
    it (checked), else a new file. Returns what the file starts from."""
    if previous is not None:
        try:
            shutil.copyfile(paths.published_db, staged)
            conn.execute(f"attach {sql_literal(str(staged))} as published")
            latest = conn.execute(
                f"select run_id from published.marts.{PUBLISH_LOG} order by published_at desc limit 1"
            ).fetchall()
            if latest == [(previous.run_id,)]:
                return previous
        except duckdb.Error:
            pass
        conn.execute("detach database if exists published")
        staged.unlink(missing_ok=True)
    conn.execute(f"attach {sql_literal(str(staged))} as published (storage_version '{PUBLISHED_STORAGE_VERSION}')")
    return None


def _usable_files(conn: duckdb.DuckDBPyConnection) -> list[int]:
    """Ids of the export files whose rows the marts may hold (the ledger's usable states)."""
    if not table_exists(conn, "working", "raw", "_ingest_ledger"):
        return []
    (ids,) = conn.execute(
        "select coalesce(list(file_id order by file_id), []) from working.raw._ingest_ledger "
        "where list_contains(?, state)",
        [list(ledger.USABLE_STATES)],
    ).fetchall()[0]
    return list(ids)


def _link_previous(previous_file: Path, file: Path) -> bool:
    """Hard-link an unchanged Parquet file of the previous set into the new one (no copy, no rewrite)."""
    if not previous_file.is_file():
        return False
    file.parent.mkdir(parents=True, exist_ok=True)
    os.link(previous_file, file)
    return True


def _write_partitioned(
    conn: duckdb.DuckDBPyConnection, directory: Path, table: str, plan: TablePlan, options: str, previous_dir
) -> None:
    """`<table>/<column>=<part>/data_0.parquet`: unchanged parts linked from the previous set, the rest written."""
    column, expression = PARTITIONED[table]
    target = directory / table
    target.mkdir()
    to_write = set(plan.fingerprint.parts)
    if not plan.rewrite_all and previous_dir is not None:
        for part in to_write - plan.rewrite_parts:
            files = sorted((previous_dir / table / f"{column}={part}").glob("*.parquet"))
            if files and all(_link_previous(f, target / f"{column}={part}" / f.name) for f in files):
                to_write.discard(part)
    if to_write:
        conn.execute(
            f"copy (select *, {expression} as {column} from published.marts.{quote(table)} "
            f"where {part_filter(table, frozenset(to_write))}) to {sql_literal(str(target))} "
            f"(format parquet, {PARQUET_COMPRESSION}, partition_by ({column}), overwrite_or_ignore true, "
            f"filename_pattern 'data_{{i}}', {options})"
        )


def _write_parquet(
    conn: duckdb.DuckDBPyConnection, directory: Path, docs: dict, plans: dict[str, TablePlan], previous_dir
) -> None:
    (directory / AUDIT_SCHEMA).mkdir()
    for (schema, table), doc in docs.items():
        options = kv_metadata(f"{schema}.{table}", doc)
        plan = plans.get(table) if schema == "marts" else None
        if plan is not None and table in PARTITIONED:
            _write_partitioned(conn, directory, table, plan, options, previous_dir)
            continue
        name = f"{table}.parquet" if schema == "marts" else f"{schema}/{table}.parquet"
        reusable = plan is not None and plan.unchanged and previous_dir is not None
        if reusable and _link_previous(previous_dir / name, directory / name):
            continue
        conn.execute(
            f"copy published.{quote(schema)}.{quote(table)} to {sql_literal(str(directory / name))} "
            f"(format parquet, {PARQUET_COMPRESSION}, {options})"
        )


def publish_marts(paths: WarehousePaths, request: PublishRequest) -> PublishResult | PublicationKept:
    """Copy every mart from the working database into a new published file and Parquet set, then swap; or keep
    the current publication when it is as of a later date than the request."""
    paths.published_dir.mkdir(parents=True, exist_ok=True)
    remove_leftovers(paths)
    published_at = datetime.now(UTC).replace(tzinfo=None)
    suffix = f"{request.run_id[:8]}-{published_at:%Y%m%dT%H%M%S%f}"  # unique per attempt
    staged = paths.published_dir / f".{paths.published_db.name}.{suffix}.tmp"
    parquet_target = paths.published_dir / f"{PARQUET_LINK}-{suffix}"
    docs_target = paths.published_dir / f"{DOCS_LINK}-{suffix}" if request.docs_site else None
    stopwatch = _Stopwatch()
    with duckdb.connect() as conn:
        conn.execute("set memory_limit = ?", [str(setting("duckdb_memory_limit"))])
        source = _attach_working(conn, paths)
        _ensure_working_log(conn, paths)
        current = _current(conn)
        if current is not None and request.as_of < current.as_of and paths.published_db.exists():
            return PublicationKept(current.as_of, current.run_id, request.as_of)
        if request.mask_identifiers:
            install_masking(conn, request.salt, customer_records(conn, "working"))
        previous_dir = paths.parquet_dir.resolve() if paths.parquet_dir.is_symlink() else None
        parquet_target.mkdir()
        try:
            with stopwatch.phase("start from the previous file"):
                previous = _attach_published(conn, paths, staged, _previous_publication(conn, paths, current))
            conn.execute("create schema if not exists published.marts")
            conn.execute(f"create schema if not exists published.{AUDIT_SCHEMA}")
            plans = _write_marts(conn, request, source, previous, stopwatch)
            row_counts = {mart: plan.fingerprint.row_count for mart, plan in plans.items()}
            docs = {("marts", mart): request.docs.get(mart, TableDoc("")) for mart in request.marts}
            with stopwatch.phase("audit tables"):
                docs |= _write_audit_tables(conn, request)
            files_included = _usable_files(conn)
            log_entry = [
                request.run_id,
                request.as_of,
                published_at,
                json.dumps(row_counts),
                request.checks_passed,
                len(request.warned_checks),
                request.warned_checks,
                request.mask_identifiers,
                files_included,
            ]
            conn.execute(f"create or replace table published.marts.{PUBLISH_LOG} {PUBLISH_LOG_COLUMNS}")
            conn.execute(f"insert into published.marts.{PUBLISH_LOG} by name select * from working.{WORKING_LOG}")
            conn.execute(f"insert into published.marts.{PUBLISH_LOG} values (?, ?, ?, ?, ?, ?, ?, ?, ?)", log_entry)
            docs[("marts", PUBLISH_LOG)] = PUBLISH_LOG_DOC
            conn.execute(f"drop table if exists published.marts.{DATA_DICTIONARY}")
            create_data_dictionary(conn, "published", docs)
            docs[("marts", DATA_DICTIONARY)] = DATA_DICTIONARY_DOC
            for (schema, table), doc in docs.items():
                comment_on(conn, "published", schema, table, doc)
            with stopwatch.phase("parquet"):
                _write_parquet(conn, parquet_target, docs, plans, previous_dir if previous is not None else None)
            with stopwatch.phase("checkpoint"):
                conn.execute("checkpoint published")
            conn.execute("detach published")
            with open(staged, "rb") as handle:
                os.fsync(handle.fileno())
            if docs_target is not None:
                docs_target.mkdir()
                shutil.copyfile(request.docs_site, docs_target / "index.html")
            # the log entry commits only once the file is in place
            conn.execute("begin")
            conn.execute(f"insert into working.{WORKING_LOG} values (?, ?, ?, ?, ?, ?, ?, ?, ?)", log_entry)
            fingerprints = {mart: plan.fingerprint for mart, plan in plans.items()}
            known_phones = KNOWN_PHONES_TABLE if request.mask_identifiers else None
            publish_changes.save(conn, request.run_id, fingerprints, known_phones)
            record_rows(conn, source, plans)
            os.replace(staged, paths.published_db)
            conn.execute("commit")
            _fsync_directory(paths.published_dir)
        except BaseException:
            staged.unlink(missing_ok=True)
            shutil.rmtree(parquet_target, ignore_errors=True)
            if docs_target is not None:
                shutil.rmtree(docs_target, ignore_errors=True)
            raise
    _swap_link(paths.parquet_dir, parquet_target)
    if docs_target is not None:
        _swap_link(paths.published_dir / DOCS_LINK, docs_target)
    _fsync_directory(paths.published_dir)
    docs_dir = paths.published_dir / DOCS_LINK if docs_target is not None else None
    written = {mart: plan.describe() for mart, plan in plans.items()}
    return PublishResult(
        paths.published_db, paths.parquet_dir, row_counts, published_at, docs_dir, written, stopwatch.seconds
    )
