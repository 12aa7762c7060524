"""Load one detected export file into `raw.<entity>`: every row is loaded or quarantined with its reason.

All work is set-based DuckDB SQL. Identifiers come from the canonical schema (never from file headers);
file paths, header names and vocabulary values are bound as parameters.
"""

from __future__ import annotations

import codecs
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from orchestration.lib.ingest.detect import DetectedFile
from orchestration.lib.ingest.errors import IngestError
from orchestration.lib.schema import (
    ENTITIES,
    LINEAGE_COLUMNS,
    CanonicalColumn,
    VendorProfile,
    canonical_schema,
    load_profiles,
)
from orchestration.lib.settings import setting

RAW_SCHEMA = "raw"
QUARANTINE_TABLE = "raw._quarantine"
LEDGER_TABLE = "raw._ingest_ledger"
MAX_LINE_BYTES = 64 << 20
TRANSCODE_BLOCK_BYTES = 16 << 20
ISO_OFFSET_PATTERN = r"(Z|[+-]\d{2}:?\d{2})$"
JSONL_POINTERS_VARIABLE = "clientele_jsonl_pointers"
UTC_ZONES = ("UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu")

LINEAGE_TYPES = {
    "_source_file": "VARCHAR",
    "_source_row": "BIGINT",
    "_file_hash": "VARCHAR",
    "_source_profile": "VARCHAR",
    "_loaded_at": "TIMESTAMP",
}

QUARANTINE_DDL = f"""
CREATE TABLE IF NOT EXISTS {QUARANTINE_TABLE} (
    entity VARCHAR NOT NULL,
    _source_file VARCHAR NOT NULL,
    _source_row BIGINT,
    _file_hash VARCHAR NOT NULL,
    _source_profile VARCHAR NOT NULL,
    column_name VARCHAR,
    raw_value VARCHAR,
    reason VARCHAR NOT NULL,
    raw_record VARCHAR,
    quarantined_at TIMESTAMP NOT NULL,
    run_id VARCHAR
)"""

LEDGER_DDL = f"""
CREATE TABLE IF NOT EXISTS {LEDGER_TABLE} (
    _file_hash VARCHAR PRIMARY KEY,
    _source_file VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    _source_profile VARCHAR NOT NULL,
    file_format VARCHAR NOT NULL,
    encoding VARCHAR NOT NULL,
    rows_in_file BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    run_id VARCHAR
)"""


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


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ensure_raw_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create (or extend with new canonical columns) every raw table, the quarantine and the ledger."""
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
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
    conn.execute(QUARANTINE_DDL)
    conn.execute(LEDGER_DDL)


def already_loaded(conn: duckdb.DuckDBPyConnection, file_hash: str) -> bool:
    query = f"SELECT 1 FROM {LEDGER_TABLE} WHERE _file_hash = ?"
    return bool(conn.execute(query, [file_hash]).fetchall())


def _transcode_to_utf8(detected: DetectedFile, scratch_dir: Path) -> Path:
    """GB18030 -> UTF-8 in large streamed blocks (DuckDB reads UTF-8 natively)."""
    scratch_dir.mkdir(parents=True, exist_ok=True)
    target = scratch_dir / f"{detected.file_hash}.csv"
    decoder = codecs.getincrementaldecoder(detected.encoding)(errors="strict")
    offset = 0
    with open(detected.path, "rb") as src, open(target, "w", encoding="utf-8", newline="") as dst:
        while block := src.read(TRANSCODE_BLOCK_BYTES):
            try:
                dst.write(decoder.decode(block))
            except UnicodeDecodeError as exc:
                line = _line_of_offset(Path(detected.path), offset + exc.start)
                raise IngestError(
                    detected.relative_name,
                    f"bytes {block[exc.start : exc.start + 4]!r} are not valid {detected.encoding}",
                    row=line,
                ) from exc
            offset += len(block)
        dst.write(decoder.decode(b"", final=True))
    return target


def _line_of_offset(path: Path, offset: int) -> int:
    with open(path, "rb") as fh:
        return fh.read(offset).count(b"\n") + 1


def _csv_reader(conn: duckdb.DuckDBPyConnection, detected: DetectedFile, scratch_dir: Path) -> tuple[str, dict]:
    """The `read_csv` call that reads the file as text columns c0..cN; its scan fills the reject tables."""
    path = Path(detected.path)
    if detected.encoding not in ("utf-8", "utf-8-sig"):
        path = _transcode_to_utf8(detected, scratch_dir)
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(detected.headers))) + "}"
    conn.execute("DROP TABLE IF EXISTS _reject_errors")
    conn.execute("DROP TABLE IF EXISTS _reject_scans")
    reader = f"""read_csv(
            $csv_path, header = true, columns = {columns}, delim = $csv_delimiter, quote = '"', escape = '"',
            auto_detect = false, store_rejects = true, ignore_errors = true,
            rejects_table = '_reject_errors', rejects_scan = '_reject_scans',
            max_line_size = {MAX_LINE_BYTES}
        )"""
    return reader, {"csv_path": str(path), "csv_delimiter": detected.delimiter or ","}


def _number_csv_rows(conn: duckdb.DuckDBPyConnection, detected: DetectedFile) -> None:
    """`_rejects` for unparseable lines, and `_typed` as a view that numbers `_typed_csv`'s rows by file line.

    `_typed_csv` holds the good records in file order (rowid); each one's line is its position plus the
    header plus how many rejected lines precede it (exact for records without embedded newlines)."""
    conn.execute(
        """
        CREATE OR REPLACE TEMP TABLE _rejects AS
        SELECT line AS _source_row,
               list_extract($headers, CAST(substr(arg_min(column_name, column_idx), 2) AS INTEGER) + 1)
                   AS column_name,
               NULL::VARCHAR AS raw_value,
               arg_min(lower(replace(error_type, '_', ' ')) || ': ' || error_message, column_idx) AS reason,
               min(csv_line) AS raw_record,
               line - row_number() OVER (ORDER BY line) AS good_rows_before
        FROM _reject_errors
        GROUP BY line
        """,
        {"headers": list(detected.headers)},
    )
    if conn.execute("SELECT count(*) FROM _rejects").fetchone()[0] == 0:
        conn.execute("CREATE OR REPLACE TEMP VIEW _typed AS SELECT rowid + 2 AS _source_row, * FROM _typed_csv")
        return
    conn.execute(
        """
        CREATE OR REPLACE TEMP TABLE _reject_offsets AS
        SELECT good_rows_before, sum(count(*)) OVER (ORDER BY good_rows_before) AS rejects_up_to
        FROM _rejects
        GROUP BY good_rows_before
        """
    )
    conn.execute(
        """
        CREATE OR REPLACE TEMP VIEW _typed AS
        SELECT t.rowid + 2 + coalesce(j.rejects_up_to, 0) AS _source_row, t.*
        FROM _typed_csv t
        ASOF LEFT JOIN _reject_offsets j ON t.rowid + 1 >= j.good_rows_before
        """
    )


def _drop_staging(conn: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> None:
    """Drop temporary staging tables and views (views first: they read the tables)."""
    kinds = dict(
        conn.execute(
            "SELECT table_name, table_type FROM information_schema.tables WHERE table_catalog = 'temp'"
        ).fetchall()
    )
    for name in sorted(names, key=lambda n: kinds.get(n) != "VIEW"):
        if name in kinds:
            conn.execute(f"DROP {'VIEW' if kinds[name] == 'VIEW' else 'TABLE'} {name}")


def _stage_jsonl(conn: duckdb.DuckDBPyConnection, detected: DetectedFile) -> None:
    """`_read(line, json_kind)` in file order, `_rejects` for lines that are not JSON objects, `_in` a view."""
    width = len(detected.headers)
    pointers = ["/" + h.replace("~", "~0").replace("/", "~1") for h in detected.headers]
    conn.execute(
        """
        CREATE OR REPLACE TEMP TABLE _read AS
        SELECT line, CASE WHEN json_valid(line) THEN json_type(line) END AS json_kind
        FROM read_csv(?, header = false, columns = {'line': 'VARCHAR'}, delim = chr(31), quote = '',
                      escape = '', auto_detect = false, max_line_size = ?)
        """,
        [detected.path, MAX_LINE_BYTES],
    )
    conn.execute(
        """
        CREATE OR REPLACE TEMP TABLE _rejects AS
        SELECT rowid + 1 AS _source_row, NULL::VARCHAR AS column_name, NULL::VARCHAR AS raw_value,
               CASE WHEN json_kind IS NULL THEN 'INVALID JSON: line is not valid JSON'
                    ELSE 'NOT AN OBJECT: line is JSON but not an object' END AS reason,
               line AS raw_record
        FROM _read
        WHERE nullif(trim(line), '') IS NOT NULL AND json_kind IS DISTINCT FROM 'OBJECT'
        """
    )
    # One parse per line extracts every column; the JSON pointers are bound through a variable because
    # a view cannot hold parameters.
    conn.execute(f"SET VARIABLE {JSONL_POINTERS_VARIABLE} = ?::VARCHAR[]", [pointers])
    extracts = ", ".join(f"field_values[{i + 1}] AS c{i}" for i in range(width))
    conn.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW _in AS
        SELECT _source_row, {extracts}
        FROM (
            SELECT rowid + 1 AS _source_row,
                   json_extract_string(line, getvariable('{JSONL_POINTERS_VARIABLE}')) AS field_values
            FROM _read
            WHERE json_kind = 'OBJECT'
        )
        """
    )


def _xlsx_cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _stage_xlsx(conn: duckdb.DuckDBPyConnection, detected: DetectedFile) -> None:
    """Workbooks are small by construction (1,048,576 rows at most): read with calamine, hand Arrow to DuckDB."""
    import pyarrow as pa
    from python_calamine import CalamineWorkbook

    try:
        rows = CalamineWorkbook.from_path(detected.path).get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as exc:
        raise IngestError(detected.relative_name, f"cannot read XLSX workbook: {exc}") from exc
    width = len(detected.headers)
    body = rows[1:]
    row_numbers = [i + 2 for i, row in enumerate(body) if any(v not in (None, "") for v in row)]
    kept = [row for row in body if any(v not in (None, "") for v in row)]
    arrays = {"_source_row": pa.array(row_numbers, pa.int64())}
    for i in range(width):
        arrays[f"c{i}"] = pa.array([_xlsx_cell_text(r[i]) if i < len(r) else None for r in kept], pa.string())
    staged = pa.table(arrays)
    conn.register("_xlsx_rows", staged)
    conn.execute("CREATE OR REPLACE TEMP TABLE _in AS SELECT * FROM _xlsx_rows")
    conn.unregister("_xlsx_rows")
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE _rejects (_source_row BIGINT, column_name VARCHAR, raw_value VARCHAR, "
        "reason VARCHAR, raw_record VARCHAR)"
    )


def _parse_expression(column: CanonicalColumn, text: str, naive_is_utc: bool = False) -> str:
    """SQL parsing one trimmed text value into the canonical type (NULL when it cannot).

    Uses the named parameters $thousands_separator, $date_formats and $timezone. With `naive_is_utc` (the
    profile's time zone is UTC) naive timestamps are kept as they are: the UTC round trip is the identity.
    """
    data_type = column.data_type.lower()
    if data_type == "varchar":
        return text
    if data_type.startswith("decimal") or data_type in ("double", "integer", "bigint"):
        return f"TRY_CAST(replace({text}, $thousands_separator, '') AS {data_type.upper()})"
    vendor_format = f"try_strptime({text}, $date_formats)"
    if data_type == "date":
        return (
            f"coalesce(TRY_CAST({text} AS DATE), "
            f"CASE WHEN regexp_matches({text}, '^\\d{{4}}-\\d{{2}}-\\d{{2}}[T ]') "
            f"THEN TRY_CAST(substr({text}, 1, 10) AS DATE) END, CAST({vendor_format} AS DATE))"
        )
    if data_type == "timestamp":
        # Offsets are honoured (stored as UTC); naive values are read in the profile's time zone.
        naive = f"coalesce(TRY_CAST({text} AS TIMESTAMP), {vendor_format})"
        if not naive_is_utc:
            naive = f"timezone('UTC', timezone($timezone, {naive}))"
        return (
            f"CASE WHEN regexp_matches({text}, '{ISO_OFFSET_PATTERN}') "
            f"THEN timezone('UTC', TRY_CAST({text} AS TIMESTAMPTZ)) "
            f"ELSE {naive} END"
        )
    raise ValueError(f"canonical column {column.name} has unsupported data_type {column.data_type!r}")


def _build_typed_table(
    conn: duckdb.DuckDBPyConnection,
    detected: DetectedFile,
    profile: VendorProfile,
    *,
    from_sql: str = "_in",
    from_params: dict | None = None,
    target: str = "_typed",
) -> None:
    """`target`: canonical typed columns, `_problems` (empty list = loadable) and the original record of problem
    rows, in one pass over `from_sql` (text columns c0..cN, and `_source_row` when it numbers its own rows)."""
    positions = dict(detected.column_positions)
    value_maps = profile.entities[detected.entity].value_maps
    params: dict = {
        **(from_params or {}),
        "thousands_separator": profile.thousands_separator or "\x00",
        "date_formats": list(profile.date_formats) or ["%Y-%m-%d"],
        "timezone": profile.timezone,
    }
    naive_is_utc = profile.timezone in UTC_ZONES
    texts, parsed, checks = [], [], []
    for column in canonical_schema()[detected.entity]:
        ident = quote_identifier(column.name)
        text_ident = quote_identifier(f"t_{column.name}")
        if column.name not in positions:
            parsed.append(f"CAST(NULL AS {column.data_type.upper()}) AS {ident}")
            continue
        source = f"nullif(trim(c{positions[column.name]}), '')"
        if column.name in value_maps:
            params[f"map_{column.name}"] = value_maps[column.name]
            source = f"coalesce(map_extract(${'map_' + column.name}::MAP(VARCHAR, VARCHAR), {source})[1], {source})"
        texts.append(f"{source} AS {text_ident}")
        parsed.append(f"{_parse_expression(column, text_ident, naive_is_utc)} AS {ident}")
        name_literal = column.name.replace("'", "''")
        if column.required:
            checks.append(
                f"CASE WHEN {text_ident} IS NULL THEN {{'column': '{name_literal}', 'value': NULL, "
                f"'reason': 'missing required value'}} END"
            )
        if column.data_type.lower() != "varchar":
            checks.append(
                f"CASE WHEN {text_ident} IS NOT NULL AND {ident} IS NULL THEN {{'column': '{name_literal}', "
                f"'value': {text_ident}, 'reason': 'cannot parse as {column.data_type}'}} END"
            )
    problems = "list_filter([" + ", ".join(checks) + "], lambda p: p IS NOT NULL)" if checks else "[]"
    record_sql, header_params = _record_json(detected)
    params.update(header_params)
    canonical = ", ".join(quote_identifier(c.name) for c in canonical_schema()[detected.entity])
    # Only what the inserts need: typed values, the problems, and the original record of problem rows.
    numbered = "_source_row, " if from_sql == "_in" else ""
    sql = f"""
        CREATE OR REPLACE TEMP TABLE {target} AS
        SELECT {numbered}{canonical}, _problems,
               CASE WHEN len(_problems) > 0 THEN {record_sql} END AS _raw_record
        FROM (
            SELECT *, {problems} AS _problems
            FROM (
                SELECT *, {", ".join(parsed)}
                FROM (SELECT *, {", ".join(texts)} FROM {from_sql})
            )
        )
        """
    conn.execute(sql, {name: value for name, value in params.items() if f"${name}" in sql})


def _record_json(detected: DetectedFile) -> tuple[str, dict]:
    """The original record as JSON keyed by the file's own headers (bound, never spliced)."""
    pairs = ", ".join(f"$h{i}, c{i}" for i in range(len(detected.headers)))
    return f"CAST(json_object({pairs}) AS VARCHAR)", {f"h{i}": header for i, header in enumerate(detected.headers)}


def load_file(
    conn: duckdb.DuckDBPyConnection,
    detected: DetectedFile,
    *,
    run_id: str | None,
    loaded_at: datetime,
    scratch_dir: Path,
) -> FileLoadResult:
    """Load one file in one transaction; a file already in the ledger (same content hash) adds nothing."""
    if already_loaded(conn, detected.file_hash):
        return FileLoadResult(
            detected.relative_name, detected.entity, detected.profile, detected.file_hash, 0, 0, 0, True
        )
    path = Path(detected.path)
    stat = path.stat()
    if (stat.st_size, stat.st_mtime_ns) != (detected.size, detected.mtime_ns):
        raise IngestError(
            detected.relative_name, "file changed after it was scanned; re-run when the export is complete"
        )
    profile = load_profiles()[detected.profile]
    if detected.file_format == "csv":
        # one scan of the file: text, typed values and problems in one statement, then lines numbered
        reader, reader_params = _csv_reader(conn, detected, scratch_dir)
        _build_typed_table(conn, detected, profile, from_sql=reader, from_params=reader_params, target="_typed_csv")
        _number_csv_rows(conn, detected)
    else:
        if detected.file_format == "jsonl":
            _stage_jsonl(conn, detected)
        else:
            _stage_xlsx(conn, detected)
        _build_typed_table(conn, detected, profile)
        _drop_staging(conn, ("_in", "_read"))

    stat_after = path.stat()
    if (stat_after.st_size, stat_after.st_mtime_ns) != (detected.size, detected.mtime_ns):
        raise IngestError(
            detected.relative_name, "file changed while it was being read; re-run when the export is complete"
        )

    canonical = [c.name for c in canonical_schema()[detected.entity]]
    target = f"{RAW_SCHEMA}.{quote_identifier(detected.entity)}"
    column_list = ", ".join(quote_identifier(c) for c in [*canonical, *LINEAGE_COLUMNS])
    lineage = {
        "source_file": detected.relative_name,
        "file_hash": detected.file_hash,
        "profile": detected.profile,
        "loaded_at": loaded_at,
        "entity": detected.entity,
        "run_id": run_id,
    }
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute(
            f"""
            INSERT INTO {target} ({column_list})
            SELECT {", ".join(quote_identifier(c) for c in canonical)},
                   $source_file, _source_row, $file_hash, $profile, $loaded_at
            FROM _typed WHERE len(_problems) = 0
            """,
            {k: lineage[k] for k in ("source_file", "file_hash", "profile", "loaded_at")},
        )
        conn.execute(
            f"""
            INSERT INTO {QUARANTINE_TABLE}
            SELECT $entity, $source_file, _source_row, $file_hash, $profile,
                   _problems[1].column, _problems[1].value,
                   array_to_string(list_transform(_problems, lambda p: p.column || ': ' || p.reason), '; '),
                   _raw_record, $loaded_at, $run_id
            FROM _typed WHERE len(_problems) > 0
            UNION ALL
            SELECT $entity, $source_file, _source_row, $file_hash, $profile,
                   column_name, raw_value, reason, raw_record, $loaded_at, $run_id
            FROM _rejects
            """,
            lineage,
        )
        loaded, quarantined_rows, rejected = conn.execute(
            "SELECT count(*) FILTER (WHERE len(_problems) = 0), count(*) FILTER (WHERE len(_problems) > 0), "
            "(SELECT count(*) FROM _rejects) FROM _typed"
        ).fetchall()[0]
        quarantined = quarantined_rows + rejected
        conn.execute(
            f"INSERT INTO {LEDGER_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                detected.file_hash,
                detected.relative_name,
                detected.entity,
                detected.profile,
                detected.file_format,
                detected.encoding,
                loaded + quarantined,
                loaded,
                quarantined,
                loaded_at,
                run_id,
            ],
        )
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    finally:
        _drop_staging(conn, ("_in", "_read", "_reject_offsets", "_typed", "_typed_csv", "_rejects"))
        shutil.rmtree(scratch_dir / detected.file_hash, ignore_errors=True)
        (scratch_dir / f"{detected.file_hash}.csv").unlink(missing_ok=True)
    return FileLoadResult(
        detected.relative_name,
        detected.entity,
        detected.profile,
        detected.file_hash,
        loaded + quarantined,
        loaded,
        quarantined,
    )


def connect(database: Path) -> duckdb.DuckDBPyConnection:
    database.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(database))
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("SET memory_limit = ?", [str(setting("duckdb_memory_limit"))])
    return conn


__all__ = ["ENTITIES", "FileLoadResult", "connect", "ensure_raw_schema", "load_file"]
