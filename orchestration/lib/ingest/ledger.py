"""The ingest ledger: one row per export file ever loaded, and the one owner of its SQL.

A file gets an integer `file_id` when it is loaded; raw rows and quarantined rows refer to it (`_file_id`,
`_source_row`), while the file's name, hash, profile, format and load time live here once. Its `state` says
whether its rows may reach staging:

- `pending`: loaded, not yet judged by the blocking raw checks (also after a run died before checking it);
- `accepted`: passed every blocking check; usable;
- `held`: failed a blocking check (`failed_checks`); its rows stay out of staging and every run fails on it
  until a corrected export replaces it or an operator releases or unloads it;
- `released`: an operator accepted it despite its failed checks (logged in `raw._ledger_actions`);
- `replaced`: held, then superseded by a later export of the same name that passed; its rows stay out;
- `unloaded`: an operator removed its rows (logged).

`accepted_seq` numbers the files in the order they became usable: incremental staging re-derives the keys of
files accepted since its last build.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

RAW_SCHEMA = "raw"
LEDGER_TABLE = "raw._ingest_ledger"
QUARANTINE_TABLE = "raw._quarantine"
ACTIONS_TABLE = "raw._ledger_actions"
FILE_ID_SEQUENCE = "raw._file_ids"
ACCEPTED_SEQUENCE = "raw._accepted_seq"

PENDING, ACCEPTED, HELD = "pending", "accepted", "held"
RELEASED, REPLACED, UNLOADED = "released", "replaced", "unloaded"
USABLE_STATES = (ACCEPTED, RELEASED)
AWAITING_STATES = (PENDING, HELD)  # judged by the blocking raw checks of the next run

LEDGER_DDL = f"""
CREATE TABLE IF NOT EXISTS {LEDGER_TABLE} (
    file_id INTEGER PRIMARY KEY,
    file_hash VARCHAR NOT NULL UNIQUE,
    source_file VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    source_profile VARCHAR NOT NULL,
    file_format VARCHAR NOT NULL,
    encoding VARCHAR NOT NULL,
    rows_in_file BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    run_id VARCHAR,
    state VARCHAR NOT NULL,
    state_reason VARCHAR,
    state_changed_at TIMESTAMP NOT NULL,
    accepted_seq BIGINT,
    failed_checks VARCHAR[],
    load_note VARCHAR
)"""

QUARANTINE_DDL = f"""
CREATE TABLE IF NOT EXISTS {QUARANTINE_TABLE} (
    file_id INTEGER NOT NULL,
    source_row BIGINT,
    column_name VARCHAR,
    raw_value VARCHAR,
    reason VARCHAR NOT NULL,
    raw_record VARCHAR,
    quarantined_at TIMESTAMP NOT NULL,
    run_id VARCHAR
)"""

ACTIONS_DDL = f"""
CREATE TABLE IF NOT EXISTS {ACTIONS_TABLE} (
    acted_at TIMESTAMP NOT NULL,
    action VARCHAR NOT NULL,
    file_id INTEGER NOT NULL,
    source_file VARCHAR NOT NULL,
    state_before VARCHAR NOT NULL,
    state_after VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    actor VARCHAR NOT NULL,
    rows_removed BIGINT
)"""


@dataclass(frozen=True)
class LedgerEntry:
    file_id: int
    source_file: str
    entity: str
    source_profile: str
    state: str
    rows_in_file: int
    rows_loaded: int
    rows_quarantined: int
    loaded_at: datetime
    failed_checks: tuple[str, ...]
    state_reason: str | None
    load_note: str | None


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def migrate_legacy_lineage(conn: duckdb.DuckDBPyConnection) -> None:
    """Rewrite a warehouse whose raw rows carried lineage strings (_source_file, _file_hash, _source_profile,
    _loaded_at) to file ids, in one transaction. Files loaded then count as accepted: they were staged."""
    legacy = conn.execute(
        "SELECT 1 FROM duckdb_columns() WHERE schema_name = 'raw' AND table_name = '_ingest_ledger' "
        "AND column_name = '_file_hash'"
    ).fetchall()
    if not legacy:
        return
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute("ALTER TABLE raw._ingest_ledger RENAME TO _ingest_ledger_legacy")
        conn.execute(LEDGER_DDL)
        conn.execute(
            f"""
            INSERT INTO {LEDGER_TABLE} (file_id, file_hash, source_file, entity, source_profile, file_format,
                encoding, rows_in_file, rows_loaded, rows_quarantined, loaded_at, run_id, state, state_changed_at,
                accepted_seq)
            SELECT row_number() OVER (ORDER BY loaded_at, _source_file), _file_hash, _source_file, entity,
                   _source_profile, file_format, encoding, rows_in_file, rows_loaded, rows_quarantined, loaded_at,
                   run_id, '{ACCEPTED}', loaded_at, row_number() OVER (ORDER BY loaded_at, _source_file)
            FROM raw._ingest_ledger_legacy
            """
        )
        tables = conn.execute(
            "SELECT table_name FROM duckdb_columns() WHERE schema_name = 'raw' AND column_name = '_file_hash' "
            "AND NOT starts_with(table_name, '_')"
        ).fetchall()
        for (table,) in tables:
            conn.execute(
                f"""
                CREATE TABLE raw."{table}_migrated" AS
                SELECT t.* EXCLUDE (_source_file, _file_hash, _source_profile, _loaded_at, _source_row),
                       CAST(l.file_id AS INTEGER) AS _file_id, t._source_row
                FROM raw."{table}" AS t JOIN {LEDGER_TABLE} AS l ON l.file_hash = t._file_hash
                """
            )
            conn.execute(f'DROP TABLE raw."{table}"')
            conn.execute(f'ALTER TABLE raw."{table}_migrated" RENAME TO "{table}"')
        conn.execute("ALTER TABLE raw._quarantine RENAME TO _quarantine_legacy")
        conn.execute(QUARANTINE_DDL)
        conn.execute(
            f"""
            INSERT INTO {QUARANTINE_TABLE}
            SELECT l.file_id, q._source_row, q.column_name, q.raw_value, q.reason, q.raw_record, q.quarantined_at,
                   q.run_id
            FROM raw._quarantine_legacy AS q JOIN {LEDGER_TABLE} AS l ON l.file_hash = q._file_hash
            """
        )
        conn.execute("DROP TABLE raw._quarantine_legacy")
        conn.execute("DROP TABLE raw._ingest_ledger_legacy")
        start = conn.execute(f"SELECT coalesce(max(file_id), 0) + 1 FROM {LEDGER_TABLE}").fetchall()[0][0]
        conn.execute(f"CREATE SEQUENCE IF NOT EXISTS {FILE_ID_SEQUENCE} START {int(start)}")
        conn.execute(f"CREATE SEQUENCE IF NOT EXISTS {ACCEPTED_SEQUENCE} START {int(start)}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def ensure_ledger(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    conn.execute(f"CREATE SEQUENCE IF NOT EXISTS {FILE_ID_SEQUENCE} START 1")
    conn.execute(f"CREATE SEQUENCE IF NOT EXISTS {ACCEPTED_SEQUENCE} START 1")
    conn.execute(LEDGER_DDL)
    conn.execute(QUARANTINE_DDL)
    conn.execute(ACTIONS_DDL)


def has_ledger(conn: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        conn.execute(
            "SELECT 1 FROM duckdb_tables() WHERE schema_name = 'raw' AND table_name = '_ingest_ledger'"
        ).fetchall()
    )


def next_file_id(conn: duckdb.DuckDBPyConnection) -> int:
    return int(conn.execute(f"SELECT nextval('{FILE_ID_SEQUENCE}')").fetchall()[0][0])


def file_id_of_hash(conn: duckdb.DuckDBPyConnection, file_hash: str) -> int | None:
    found = conn.execute(f"SELECT file_id FROM {LEDGER_TABLE} WHERE file_hash = ?", [file_hash]).fetchall()
    return int(found[0][0]) if found else None


def record_load(
    conn: duckdb.DuckDBPyConnection,
    *,
    file_id: int,
    file_hash: str,
    source_file: str,
    entity: str,
    source_profile: str,
    file_format: str,
    encoding: str,
    rows_in_file: int,
    rows_loaded: int,
    rows_quarantined: int,
    loaded_at: datetime,
    run_id: str | None,
    load_note: str | None,
) -> None:
    """A loaded file, pending the blocking raw checks (inside the load's transaction)."""
    conn.execute(
        f"""
        INSERT INTO {LEDGER_TABLE} (file_id, file_hash, source_file, entity, source_profile, file_format, encoding,
            rows_in_file, rows_loaded, rows_quarantined, loaded_at, run_id, state, state_changed_at, load_note)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            file_id,
            file_hash,
            source_file,
            entity,
            source_profile,
            file_format,
            encoding,
            rows_in_file,
            rows_loaded,
            rows_quarantined,
            loaded_at,
            run_id,
            PENDING,
            loaded_at,
            load_note,
        ],
    )


def loaded_hashes(conn: duckdb.DuckDBPyConnection) -> set[str]:
    if not has_ledger(conn):
        return set()
    return {row[0] for row in conn.execute(f"SELECT file_hash FROM {LEDGER_TABLE}").fetchall()}


def entries(conn: duckdb.DuckDBPyConnection, states: Iterable[str] | None = None) -> list[LedgerEntry]:
    if not has_ledger(conn):
        return []
    where, params = "", []
    if states is not None:
        where, params = "WHERE list_contains(?, state)", [list(states)]
    rows = conn.execute(
        f"""
        SELECT file_id, source_file, entity, source_profile, state, rows_in_file, rows_loaded, rows_quarantined,
               loaded_at, coalesce(failed_checks, []), state_reason, load_note
        FROM {LEDGER_TABLE} {where} ORDER BY file_id
        """,
        params,
    ).fetchall()
    return [LedgerEntry(*row[:9], tuple(row[9]), row[10], row[11]) for row in rows]


def find_entry(conn: duckdb.DuckDBPyConnection, reference: str) -> LedgerEntry:
    """A file by id, by name (the newest load of that name) or by content hash."""
    matches = [
        e
        for e in entries(conn)
        if str(e.file_id) == reference or e.source_file == reference or e.source_file.endswith("/" + reference)
    ]
    if not matches:
        hashed = conn.execute(f"SELECT file_id FROM {LEDGER_TABLE} WHERE file_hash = ?", [reference]).fetchall()
        matches = [e for e in entries(conn) if hashed and e.file_id == hashed[0][0]]
    if not matches:
        raise LookupError(f"no file {reference!r} in the ingest ledger (see `clientele files`)")
    return matches[-1]


def set_states(
    conn: duckdb.DuckDBPyConnection,
    verdicts: dict[int, tuple[str, tuple[str, ...], str | None]],
    changed_at: datetime,
) -> None:
    """Apply (state, failed checks, reason) per file; files becoming usable get the next accepted_seq."""
    for file_id, (state, failed, reason) in sorted(verdicts.items()):
        conn.execute(
            f"""
            UPDATE {LEDGER_TABLE}
            SET accepted_seq = CASE WHEN list_contains(?, ?) AND NOT list_contains(?, state)
                                    THEN nextval('{ACCEPTED_SEQUENCE}') ELSE accepted_seq END,
                state_changed_at = CASE WHEN state <> ? OR failed_checks IS DISTINCT FROM ? THEN ?
                                        ELSE state_changed_at END,
                state = ?, failed_checks = ?, state_reason = ?
            WHERE file_id = ?
            """,
            [
                list(USABLE_STATES),
                state,
                list(USABLE_STATES),
                state,
                list(failed) or None,
                changed_at,
                state,
                list(failed) or None,
                reason,
                file_id,
            ],
        )


def log_action(
    conn: duckdb.DuckDBPyConnection,
    *,
    action: str,
    entry: LedgerEntry,
    state_after: str,
    reason: str,
    actor: str,
    rows_removed: int | None = None,
) -> None:
    conn.execute(
        f"INSERT INTO {ACTIONS_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [now_utc(), action, entry.file_id, entry.source_file, entry.state, state_after, reason, actor, rows_removed],
    )


def usable_file_ids_sql() -> str:
    """SQL selecting the ids of files whose rows may reach staging."""
    states = ", ".join(f"'{state}'" for state in USABLE_STATES)
    return f"SELECT file_id FROM {LEDGER_TABLE} WHERE state IN ({states})"


def release(conn: duckdb.DuckDBPyConnection, reference: str, *, reason: str, actor: str) -> LedgerEntry:
    """An operator accepts a held file despite its failed checks; its rows reach staging from the next build."""
    entry = find_entry(conn, reference)
    if entry.state != HELD:
        raise ValueError(
            f"{entry.source_file} (file id {entry.file_id}) is {entry.state}; only held files are released"
        )
    conn.execute("BEGIN TRANSACTION")
    try:
        set_states(conn, {entry.file_id: (RELEASED, entry.failed_checks, f"released: {reason}")}, now_utc())
        log_action(conn, action="release", entry=entry, state_after=RELEASED, reason=reason, actor=actor)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return entry


def unload(conn: duckdb.DuckDBPyConnection, reference: str, *, reason: str, actor: str) -> tuple[LedgerEntry, int]:
    """An operator removes a file's rows (raw rows and quarantined rows); the ledger keeps the file, `unloaded`,
    so the same content is not loaded again. Returns the entry and the number of raw rows removed."""
    entry = find_entry(conn, reference)
    if entry.state == UNLOADED:
        raise ValueError(f"{entry.source_file} (file id {entry.file_id}) is already unloaded")
    conn.execute("BEGIN TRANSACTION")
    try:
        removed = conn.execute(
            f'DELETE FROM {RAW_SCHEMA}."{entry.entity}" WHERE _file_id = ?', [entry.file_id]
        ).fetchall()[0][0]
        conn.execute(f"DELETE FROM {QUARANTINE_TABLE} WHERE file_id = ?", [entry.file_id])
        set_states(conn, {entry.file_id: (UNLOADED, entry.failed_checks, f"unloaded: {reason}")}, now_utc())
        log_action(
            conn, action="unload", entry=entry, state_after=UNLOADED, reason=reason, actor=actor, rows_removed=removed
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return entry, int(removed)
