"""The quarantine and the ingest ledger, readable without the working database.

Both are published, masked like the marts (publish_masking.py), as `audit.quarantine` and
`audit.ingest_ledger` in the published DuckDB file and its Parquet set. `export_audit_tables` writes the same
two tables as Parquet under `<warehouse>/audit/` on its own, so the quarantine of a run that failed before
publishing can be inspected too (ingest calls it after each load).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from orchestration.lib.publish_docs import PARQUET_COMPRESSION, ColumnDoc, TableDoc, kv_metadata, quote, sql_literal
from orchestration.lib.publish_masking import install_masking, masked_column, masked_select_list, pii_salt
from orchestration.lib.settings import WarehousePaths, setting

AUDIT_SCHEMA = "audit"

_FILE = {
    "file_id": ColumnDoc("The export file (audit.ingest_ledger.file_id)."),
    "source_file": ColumnDoc("Export file, relative to the inbox."),
    "entity": ColumnDoc("Canonical entity of the file: customers, orders, order_lines, products, ..."),
    "run_id": ColumnDoc("Dagster run that loaded the file."),
}
QUARANTINE_DOC = TableDoc(
    "Rows of the CRM exports that were not loaded, one row per row of a file, with the reasons. E-mails and phone "
    "numbers in the text are masked (salted hashes) unless publish_mask_identifiers is false.",
    {
        **_FILE,
        "source_row": ColumnDoc("Line of the row in its file (the sheet row for XLSX).", "row number"),
        "column_name": ColumnDoc("Canonical column with the (first) problem; null for a row-level problem."),
        "raw_value": ColumnDoc("The value as exported."),
        "reason": ColumnDoc("Why the row was quarantined (every problem of the row)."),
        "raw_record": ColumnDoc("The whole row as exported (CSV line or JSON)."),
        "quarantined_at": ColumnDoc("When the row was quarantined (UTC)."),
    },
)
INGEST_LEDGER_DOC = TableDoc(
    "Every export file loaded into the warehouse, once per content hash, with its row counts and its state: "
    "pending (not judged yet), accepted, held (failed a blocking check; its rows are kept out), released or "
    "unloaded by an operator, or replaced by a later export of the same name.",
    {
        **_FILE,
        "file_hash": ColumnDoc("SHA-256 of the export file's bytes: a file with the same content is skipped."),
        "source_profile": ColumnDoc("Vendor profile the file was read with (generic, zoho, fxiaoke, ...)."),
        "file_format": ColumnDoc("csv, jsonl or xlsx."),
        "encoding": ColumnDoc("Text encoding detected (utf-8, gb18030, ...)."),
        "rows_in_file": ColumnDoc("Rows in the file, counted apart from the parser.", "count"),
        "rows_loaded": ColumnDoc("Rows loaded into the raw table.", "count"),
        "rows_quarantined": ColumnDoc("Rows sent to the quarantine.", "count"),
        "loaded_at": ColumnDoc("When the file was loaded (UTC)."),
        "state": ColumnDoc("pending, accepted, held, released, replaced or unloaded."),
        "state_reason": ColumnDoc("Why the file is in its state."),
        "state_changed_at": ColumnDoc("When the state last changed (UTC)."),
        "accepted_seq": ColumnDoc("Order in which the file became usable."),
        "failed_checks": ColumnDoc("Blocking checks the file failed (held, released, replaced)."),
        "load_note": ColumnDoc("What the load decided about the whole file (e.g. why it was quarantined whole)."),
    },
)
# published name -> (schema, table) in the working database, documentation
AUDIT_TABLES = {
    "quarantine": (("raw", "_quarantine"), QUARANTINE_DOC),
    "ingest_ledger": (("raw", "_ingest_ledger"), INGEST_LEDGER_DOC),
}
QUARANTINE_COLUMNS = (
    "file_id",
    "source_file",
    "entity",
    "source_row",
    "column_name",
    "raw_value",
    "reason",
    "raw_record",
    "quarantined_at",
    "run_id",
)


def table_exists(conn: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> bool:
    query = "select count(*) from duckdb_tables() where database_name = ? and schema_name = ? and table_name = ?"
    return conn.execute(query, [catalog, schema, table]).fetchall()[0][0] > 0


def customer_records(conn: duckdb.DuckDBPyConnection, catalog: str) -> str | None:
    """The exported customer records (their phones feed the known-phone rule), if any were loaded."""
    return f"{quote(catalog)}.raw.customers" if table_exists(conn, catalog, "raw", "customers") else None


def audit_selects(conn: duckdb.DuckDBPyConnection, catalog: str, mask: bool) -> dict[str, str]:
    """Published name -> SELECT of the masked audit table, for those the working database (`catalog`) has. The
    quarantine carries its file's name and entity, so it reads on its own."""
    if not table_exists(conn, catalog, "raw", "_ingest_ledger"):
        return {}
    raw = f"{quote(catalog)}.raw"
    ledger_columns = masked_select_list(conn, catalog, "raw", "_ingest_ledger", hashed=set(), mask=mask)
    selects = {"ingest_ledger": f"select {ledger_columns} from {raw}._ingest_ledger"}
    if table_exists(conn, catalog, "raw", "_quarantine"):
        types = dict(
            conn.execute(
                "select column_name, data_type from duckdb_columns() where database_name = ? and schema_name = 'raw' "
                "and table_name in ('_quarantine', '_ingest_ledger')",
                [catalog],
            ).fetchall()
        )
        columns = ", ".join(masked_column(name, types[name], hashed=False, mask=mask) for name in QUARANTINE_COLUMNS)
        selects["quarantine"] = (
            f"select {columns} from (select q.*, l.source_file, l.entity from {raw}._quarantine as q "
            f"join {raw}._ingest_ledger as l using (file_id))"
        )
    return selects


def audit_masking(paths: WarehousePaths) -> dict:
    """The masking arguments of `export_audit_tables` under the project's settings."""
    mask = bool(setting("publish_mask_identifiers"))
    return {"salt": pii_salt(paths) if mask else "", "mask_identifiers": mask}


def export_audit_tables(
    paths: WarehousePaths,
    *,
    salt: str,
    mask_identifiers: bool = True,
    conn: duckdb.DuckDBPyConnection | None = None,
) -> dict[str, Path]:
    """Write the masked quarantine and ingest ledger to `<warehouse>/audit/<name>.parquet`, each replaced
    atomically (a reader sees the old or the new file). Call it under the writer lock: it removes the temporary
    files an export killed half-way left. `conn`: an open connection to the working database (ingest's own),
    else the working database is opened read-only."""
    own = conn is None
    if own:
        if not paths.working_db.exists():
            return {}
        conn = duckdb.connect(str(paths.working_db), read_only=True)
    try:
        catalog = conn.execute("select current_database()").fetchall()[0][0]
        if mask_identifiers:
            install_masking(conn, salt, customer_records(conn, catalog))
        target_dir = paths.warehouse_dir / AUDIT_SCHEMA
        target_dir.mkdir(parents=True, exist_ok=True)
        for stale in target_dir.glob(".*.parquet.*.tmp"):
            stale.unlink()  # left by a process killed while exporting (exports run under the writer lock)
        written = {}
        for name, select in audit_selects(conn, catalog, mask_identifiers).items():
            final = target_dir / f"{name}.parquet"
            staged = target_dir / f".{name}.parquet.{os.getpid()}.tmp"
            options = kv_metadata(f"{AUDIT_SCHEMA}.{name}", AUDIT_TABLES[name][1])
            conn.execute(
                f"copy ({select}) to {sql_literal(str(staged))} (format parquet, {PARQUET_COMPRESSION}, {options})"
            )
            os.replace(staged, final)
            written[name] = final
        return written
    finally:
        if own:
            conn.close()
