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

from orchestration.lib.publish_docs import ColumnDoc, TableDoc, kv_metadata, quote, sql_literal
from orchestration.lib.publish_masking import install_masking, masked_select_list
from orchestration.lib.settings import WarehousePaths

AUDIT_SCHEMA = "audit"

_LINEAGE = {
    "_source_file": ColumnDoc("Export file, relative to the inbox."),
    "_file_hash": ColumnDoc("SHA-256 of the export file's bytes."),
    "_source_profile": ColumnDoc("Vendor profile the file was read with (generic, zoho, fxiaoke, ...)."),
    "run_id": ColumnDoc("Dagster run that loaded the file."),
    "entity": ColumnDoc("Canonical entity of the file: customers, orders, order_lines, products, ..."),
}
QUARANTINE_DOC = TableDoc(
    "Rows of the CRM exports that were not loaded, one row per problem, with the reason. E-mails and phone "
    "numbers in the text are masked (salted hashes) unless publish_mask_identifiers is false.",
    {
        **_LINEAGE,
        "_source_row": ColumnDoc("Line (CSV) or record (JSON Lines, XLSX row) number in the file.", "row number"),
        "column_name": ColumnDoc("Canonical column with the problem; null for a row-level problem."),
        "raw_value": ColumnDoc("The value as exported."),
        "reason": ColumnDoc("Why the row was quarantined."),
        "raw_record": ColumnDoc("The whole row as exported (CSV line or JSON)."),
        "quarantined_at": ColumnDoc("When the row was quarantined (UTC)."),
    },
)
INGEST_LEDGER_DOC = TableDoc(
    "Every export file loaded into the warehouse, once per content hash, with its row counts.",
    {
        **_LINEAGE,
        "_file_hash": ColumnDoc("SHA-256 of the export file's bytes: a file with the same content is skipped."),
        "file_format": ColumnDoc("csv, jsonl or xlsx."),
        "encoding": ColumnDoc("Text encoding detected (utf-8, gb18030, ...)."),
        "rows_in_file": ColumnDoc("Data rows in the file.", "count"),
        "rows_loaded": ColumnDoc("Rows loaded into the raw table.", "count"),
        "rows_quarantined": ColumnDoc("Rows sent to the quarantine.", "count"),
        "loaded_at": ColumnDoc("When the file was loaded (UTC)."),
    },
)
# published name -> (schema, table) in the working database, documentation
AUDIT_TABLES = {
    "quarantine": (("raw", "_quarantine"), QUARANTINE_DOC),
    "ingest_ledger": (("raw", "_ingest_ledger"), INGEST_LEDGER_DOC),
}


def table_exists(conn: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> bool:
    query = "select count(*) from duckdb_tables() where database_name = ? and schema_name = ? and table_name = ?"
    return conn.execute(query, [catalog, schema, table]).fetchall()[0][0] > 0


def customer_records(conn: duckdb.DuckDBPyConnection, catalog: str) -> str | None:
    """The exported customer records (their phones feed the known-phone rule), if any were loaded."""
    return f"{quote(catalog)}.raw.customers" if table_exists(conn, catalog, "raw", "customers") else None


def audit_selects(conn: duckdb.DuckDBPyConnection, catalog: str, mask: bool) -> dict[str, str]:
    """Published name -> SELECT of the masked audit table, for those the working database (`catalog`) has."""
    selects = {}
    for name, ((schema, table), _) in AUDIT_TABLES.items():
        if table_exists(conn, catalog, schema, table):
            columns = masked_select_list(conn, catalog, schema, table, hashed=set(), mask=mask)
            selects[name] = f"select {columns} from {quote(catalog)}.{quote(schema)}.{quote(table)}"
    return selects


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
            conn.execute(f"copy ({select}) to {sql_literal(str(staged))} (format parquet, compression zstd, {options})")
            os.replace(staged, final)
            written[name] = final
        return written
    finally:
        if own:
            conn.close()
