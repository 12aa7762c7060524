"""Load one detected export file into `raw.<entity>`: every row is loaded or quarantined with its reason.

One transaction per file: the raw rows, the quarantined rows and the ledger entry (state `pending`, judged by
the blocking raw checks of the run) appear together or not at all. Rows in file is counted apart from the
parser (`readers.ReadOutcome.rows_in_file`); a file whose count does not reconcile, or whose quoting breaks,
is quarantined whole, never half-loaded. Identifiers come from the canonical schema (never from file headers);
file paths, header names and vocabulary values are bound as parameters.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from orchestration.lib.ingest import ledger
from orchestration.lib.ingest.detect import DetectedFile
from orchestration.lib.ingest.errors import IngestError
from orchestration.lib.ingest.readers import drop_staging, quarantine_whole_file_lines, read_export
from orchestration.lib.ingest.values import quote_identifier
from orchestration.lib.schema import ENTITIES, canonical_schema, load_profiles
from orchestration.lib.settings import setting

RAW_SCHEMA = ledger.RAW_SCHEMA
LINEAGE_TYPES = {"_file_id": "INTEGER", "_source_row": "BIGINT"}


@dataclass(frozen=True)
class FileLoadResult:
    relative_name: str
    entity: str
    profile: str
    file_hash: str
    rows_in_file: int
    rows_loaded: int
    rows_quarantined: int
    skipped_as_duplicate: bool = False
    file_id: int | None = None
    note: str | None = None  # why the whole file was quarantined, or what detection decided


def ensure_raw_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create (or extend with new canonical columns) every raw table, the ledger and the quarantine."""
    ledger.migrate_legacy_lineage(conn)
    ledger.ensure_ledger(conn)
    for entity, columns in canonical_schema().items():
        table = f"{RAW_SCHEMA}.{quote_identifier(entity)}"
        wanted = [(c.name, c.data_type.upper()) for c in columns] + list(LINEAGE_TYPES.items())
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (" + ", ".join(f"{quote_identifier(n)} {t}" for n, t in wanted) + ")"
        )
        existing = {
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
                [RAW_SCHEMA, entity],
            ).fetchall()
        }
        for name, data_type in wanted:
            if name not in existing:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {quote_identifier(name)} {data_type}")


def _unchanged(detected: DetectedFile, when: str) -> None:
    stat = Path(detected.path).stat()
    if (stat.st_size, stat.st_mtime_ns) != (detected.size, detected.mtime_ns):
        raise IngestError(
            detected.relative_name, f"file changed {when}; re-run when the export is complete (nothing was loaded)"
        )


def _insert_rows(conn: duckdb.DuckDBPyConnection, detected: DetectedFile, file_id: int, stamp: dict) -> None:
    canonical = [c.name for c in canonical_schema()[detected.entity]]
    columns = ", ".join(quote_identifier(c) for c in [*canonical, *LINEAGE_TYPES])
    conn.execute(
        f"""
        INSERT INTO {RAW_SCHEMA}.{quote_identifier(detected.entity)} ({columns})
        SELECT {", ".join(quote_identifier(c) for c in canonical)}, $file_id, _source_row
        FROM _typed WHERE len(_problems) = 0
        """,
        {"file_id": file_id},
    )
    conn.execute(
        f"""
        INSERT INTO {ledger.QUARANTINE_TABLE}
        SELECT $file_id, _source_row, _problems[1].column, _problems[1].value,
               array_to_string(list_transform(_problems, lambda p: p.column || ': ' || p.reason), '; '),
               _raw_record, $quarantined_at, $run_id
        FROM _typed WHERE len(_problems) > 0
        UNION ALL
        SELECT $file_id, _source_row, column_name, raw_value, reason, raw_record, $quarantined_at, $run_id
        FROM _rejects
        """,
        {"file_id": file_id, **stamp},
    )


def _insert_whole_file(conn: duckdb.DuckDBPyConnection, file_id: int, reason: str, stamp: dict) -> None:
    conn.execute(
        f"""
        INSERT INTO {ledger.QUARANTINE_TABLE}
        SELECT $file_id, _source_row, NULL, NULL, $reason, raw_record, $quarantined_at, $run_id
        FROM _rejects
        """,
        {"file_id": file_id, "reason": f"whole file quarantined: {reason}", **stamp},
    )


def load_file(
    conn: duckdb.DuckDBPyConnection,
    detected: DetectedFile,
    *,
    run_id: str | None,
    loaded_at: datetime,
    scratch_dir: Path,
) -> FileLoadResult:
    """Load one file in one transaction; a file already in the ledger (same content hash) adds nothing."""
    if ledger.file_id_of_hash(conn, detected.file_hash) is not None:
        return FileLoadResult(
            detected.relative_name, detected.entity, detected.profile, detected.file_hash, 0, 0, 0, True
        )
    _unchanged(detected, "after it was scanned")
    profile = load_profiles()[detected.profile]
    transcoded = scratch_dir / f"{detected.file_hash}.csv"
    stamp = {"quarantined_at": loaded_at, "run_id": run_id}
    try:
        outcome = read_export(conn, detected, profile, scratch_dir)
        _unchanged(detected, "while it was being read")
        if outcome.whole_file_reason:
            lines_of = transcoded if transcoded.exists() else Path(detected.path)
            quarantine_whole_file_lines(conn, lines_of, has_header=detected.file_format == "csv")
        file_id = ledger.next_file_id(conn)
        conn.execute("BEGIN TRANSACTION")
        try:
            if outcome.whole_file_reason:
                _insert_whole_file(conn, file_id, outcome.whole_file_reason, stamp)
                loaded = 0
                quarantined = rows_in_file = conn.execute("SELECT count(*) FROM _rejects").fetchall()[0][0]
            else:
                _insert_rows(conn, detected, file_id, stamp)
                loaded, quarantined = conn.execute(
                    "SELECT count(*) FILTER (WHERE len(_problems) = 0), "
                    "count(*) FILTER (WHERE len(_problems) > 0) + (SELECT count(*) FROM _rejects) FROM _typed"
                ).fetchall()[0]
                rows_in_file = outcome.rows_in_file
                if loaded + quarantined != rows_in_file:
                    raise IngestError(
                        detected.relative_name,
                        f"internal count mismatch: {loaded:,} loaded + {quarantined:,} quarantined != "
                        f"{rows_in_file:,} rows in the file; nothing was loaded",
                    )
            note = outcome.whole_file_reason or detected.note
            ledger.record_load(
                conn,
                file_id=file_id,
                file_hash=detected.file_hash,
                source_file=detected.relative_name,
                entity=detected.entity,
                source_profile=detected.profile,
                file_format=detected.file_format,
                encoding=detected.encoding,
                rows_in_file=rows_in_file,
                rows_loaded=loaded,
                rows_quarantined=quarantined,
                loaded_at=loaded_at,
                run_id=run_id,
                load_note=note,
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        drop_staging(conn)
        shutil.rmtree(scratch_dir / detected.file_hash, ignore_errors=True)
        transcoded.unlink(missing_ok=True)
    return FileLoadResult(
        detected.relative_name,
        detected.entity,
        detected.profile,
        detected.file_hash,
        rows_in_file,
        loaded,
        quarantined,
        file_id=file_id,
        note=note,
    )


def connect(database: Path) -> duckdb.DuckDBPyConnection:
    database.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(database))
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("SET memory_limit = ?", [str(setting("duckdb_memory_limit"))])
    return conn


__all__ = ["ENTITIES", "FileLoadResult", "connect", "ensure_raw_schema", "load_file", "quote_identifier"]
