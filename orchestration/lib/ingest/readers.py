"""Read one export into temporary tables, numbered by file line, and reconcile with an independent count.

Each reader leaves, in the load's connection:
- `_typed`: the canonical typed columns, `_source_row`, `_problems` and the original record of problem rows
  (built by `values.typed_table_sql`; CSV in one pass over DuckDB's reader, without materialising its text);
- `_rejects`: records the parser itself could not read (`_source_row`, column_name, raw_value, reason,
  raw_record),
and returns a `ReadOutcome`: the records the file holds, counted apart from the parser (`scan.py` for text,
the workbook's own rows for XLSX), and, when the parser's count does not match it or the quoting breaks, the
reason the whole file must be quarantined instead.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from orchestration.lib.ingest.detect import DetectedFile
from orchestration.lib.ingest.errors import IngestError
from orchestration.lib.ingest.scan import TextScan, scan_text_export
from orchestration.lib.ingest.values import flag_conflicting_duplicates, typed_table_sql
from orchestration.lib.schema import VendorProfile

MAX_LINE_BYTES = 64 << 20
TRANSCODE_BLOCK_BYTES = 16 << 20
REJECT_COLUMNS = "_source_row BIGINT, column_name VARCHAR, raw_value VARCHAR, reason VARCHAR, raw_record VARCHAR"
STAGING_TABLES = (
    "_typed",
    "_typed_csv",
    "_rejects",
    "_reject_errors",
    "_reject_scans",
    "_record_lines",
    "_lines",
    "_read",
    "_in_rows",
    "_cell_problems",
    "_reject_ordinals",
)
STAGING_VIEWS = ("_in",)
FORMULA_CELL = re.compile(rb'<c r="([A-Z]+)(\d+)"[^>]*?>(?:<f[^>]*?/>|<f[^>]*>([^<]*)</f>)(<v>[^<]*</v>|<v/>)?')


@dataclass(frozen=True)
class ReadOutcome:
    rows_in_file: int  # records, counted apart from the parser
    whole_file_reason: str | None = None  # set: quarantine every line, load nothing


def drop_staging(conn: duckdb.DuckDBPyConnection) -> None:
    for view in STAGING_VIEWS:
        conn.execute(f"DROP VIEW IF EXISTS {view}")
    for table in STAGING_TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}")


def _empty_rejects(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(f"CREATE OR REPLACE TEMP TABLE _rejects ({REJECT_COLUMNS})")


def transcode_to_utf8(detected: DetectedFile, scratch_dir: Path) -> Path:
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
                raise IngestError(
                    detected.relative_name,
                    f"bytes {block[exc.start : exc.start + 4]!r} at offset {offset + exc.start:,} are not valid "
                    f"{detected.encoding}",
                ) from exc
            offset += len(block)
        dst.write(decoder.decode(b"", final=True))
    return target


def _register_lines(conn: duckdb.DuckDBPyConnection, scan: TextScan) -> None:
    """`_record_lines(ordinal, line)` for files whose records are not one per line."""
    lines = scan.record_lines if scan.record_lines is not None else np.zeros(0, np.int64)
    table = pa.table({"ordinal": pa.array(np.arange(lines.size, dtype=np.int64)), "line": pa.array(lines)})
    conn.register("_record_lines_arrow", table)
    conn.execute("CREATE OR REPLACE TEMP TABLE _record_lines AS SELECT * FROM _record_lines_arrow")
    conn.unregister("_record_lines_arrow")


def read_csv_file(
    conn: duckdb.DuckDBPyConnection, detected: DetectedFile, profile: VendorProfile, scratch_dir: Path
) -> ReadOutcome:
    path = Path(detected.path)
    if detected.encoding not in ("utf-8", "utf-8-sig"):
        path = transcode_to_utf8(detected, scratch_dir)
    scan = scan_text_export(path, delimiter=detected.delimiter or ",")
    if scan.unterminated_quote_line is not None:
        return ReadOutcome(
            scan.records,
            f"quoting breaks at line {scan.unterminated_quote_line:,}: a double quote opens a field there that "
            "is never closed, so every later line would be read as part of it",
        )
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(detected.headers))) + "}"
    reader = f"""read_csv(
            $csv_path, header = true, skip = {scan.leading_blank_lines}, columns = {columns},
            delim = $csv_delimiter, quote = '"', escape = '"', auto_detect = false, store_rejects = true,
            ignore_errors = true, rejects_table = '_reject_errors', rejects_scan = '_reject_scans',
            max_line_size = {MAX_LINE_BYTES}
        )"""
    sql, params = typed_table_sql(detected, profile, from_sql=reader, target="_typed_csv", numbered=False)
    params.update({"csv_path": str(path), "csv_delimiter": detected.delimiter or ","})
    conn.execute("DROP TABLE IF EXISTS _reject_errors")
    conn.execute("DROP TABLE IF EXISTS _reject_scans")
    try:
        conn.execute(sql, params)
    except duckdb.Error as exc:
        return ReadOutcome(scan.records, f"the CSV parser stopped: {str(exc).splitlines()[0]}")
    conn.execute(
        """
        CREATE OR REPLACE TEMP TABLE _rejects AS
        SELECT line_byte_position - 1 + CASE WHEN starts_with(min(csv_line), chr(10)) THEN 1 ELSE 0 END
                   AS record_offset,
               min(line) AS parser_line,
               list_extract($headers, CAST(substr(arg_min(column_name, column_idx), 2) AS INTEGER) + 1)
                   AS column_name,
               NULL::VARCHAR AS raw_value,
               arg_min(lower(replace(error_type, '_', ' ')) || ': ' || error_message
                       || CASE WHEN error_type = 'INVALID ENCODING'
                               THEN ' (byte offset ' || (byte_position - 1) || ')' ELSE '' END, column_idx)
                   AS reason,
               trim(min(csv_line), chr(13) || chr(10)) AS raw_record
        FROM _reject_errors
        GROUP BY line_byte_position
        """,
        {"headers": list(detected.headers)},
    )
    conn.execute("DROP TABLE _reject_errors")
    conn.execute("DROP TABLE IF EXISTS _reject_scans")
    rejected = conn.execute("SELECT count(*) FROM _rejects").fetchall()[0][0]
    parsed = conn.execute("SELECT count(*) FROM _typed_csv").fetchall()[0][0]
    if parsed + rejected != scan.records:
        spans = ", ".join(f"{first}-{last}" for first, last in scan.multiline_records[:5])
        return ReadOutcome(
            scan.records,
            f"the CSV parser read {parsed + rejected:,} records but the file holds {scan.records:,}"
            + (f" (quoted fields run over lines {spans})" if spans else "")
            + ": a stray double quote can make the parser join or drop lines",
        )
    _number_csv_rows(conn, scan)
    swallowing = conn.execute("SELECT min(_source_row) FROM _rejects WHERE contains(raw_record, chr(10))").fetchall()[
        0
    ][0]
    if swallowing is not None:
        return ReadOutcome(
            scan.records,
            f"quoting breaks at line {swallowing:,}: a quoted field runs on over several lines there and the "
            "parser could not read it, so the lines inside it cannot be trusted",
        )
    return ReadOutcome(scan.records)


def _number_csv_rows(conn: duckdb.DuckDBPyConnection, scan: TextScan) -> None:
    """Number rejected and parsed records by the file line they start on.

    A rejected record's line comes from its byte offset (or, when every record is one line, from the parser).
    A parsed record's ordinal among the file's data records is its position among the parsed records plus the
    number of rejected records before it; its line is `first_record_line + ordinal`, or looked up in
    `_record_lines` when the records are not one per line (blank lines, multi-line fields)."""
    if scan.line_starts is not None:
        starts = pa.table(
            {"start": pa.array(scan.line_starts), "line": pa.array(np.arange(1, scan.line_starts.size + 1))}
        )
        conn.register("_line_starts", starts)
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE _rejects AS SELECT s.line AS _source_row, r.column_name, r.raw_value, "
            "r.reason, r.raw_record FROM _rejects AS r ASOF JOIN _line_starts AS s ON r.record_offset >= s.start"
        )
        conn.unregister("_line_starts")
    else:  # one record per line: the parser's line is the file line
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE _rejects AS SELECT CAST(parser_line AS BIGINT) AS _source_row, "
            "column_name, raw_value, reason, raw_record FROM _rejects"
        )
    if scan.record_lines is not None:
        _register_lines(conn, scan)
        ordinals = "SELECT l.ordinal FROM _rejects AS r JOIN _record_lines AS l ON l.line = r._source_row"
    else:
        ordinals = f"SELECT _source_row - {scan.first_record_line} AS ordinal FROM _rejects"
    conn.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _reject_ordinals AS
        SELECT ordinal - row_number() OVER (ORDER BY ordinal) + 1 AS parsed_before,
               row_number() OVER (ORDER BY ordinal) AS rejects_up_to
        FROM ({ordinals})
        """
    )
    ordinal = "t.rowid + coalesce(j.rejects_up_to, 0)"
    if scan.record_lines is not None:
        conn.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _typed AS
            SELECT l.line AS _source_row, n.* EXCLUDE (_ordinal)
            FROM (
                SELECT t.*, {ordinal} AS _ordinal
                FROM _typed_csv AS t ASOF LEFT JOIN _reject_ordinals AS j ON t.rowid >= j.parsed_before
            ) AS n
            LEFT JOIN _record_lines AS l ON l.ordinal = n._ordinal
            """
        )
    else:
        conn.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _typed AS
            SELECT {ordinal} + {scan.first_record_line} AS _source_row, t.*
            FROM _typed_csv AS t ASOF LEFT JOIN _reject_ordinals AS j ON t.rowid >= j.parsed_before
            """
        )
    conn.execute("DROP TABLE _typed_csv")
    conn.execute("DROP TABLE _reject_ordinals")


def _read_lines(conn: duckdb.DuckDBPyConnection, path: Path) -> None:
    """`_lines(_source_row, line)`: every non-blank physical line of a text file with its line number."""
    conn.execute(
        """
        CREATE OR REPLACE TEMP TABLE _read AS
        SELECT line
        FROM read_csv(?, header = false, columns = {'line': 'VARCHAR'}, delim = chr(0), quote = '', escape = '',
                      auto_detect = false, max_line_size = ?)
        """,
        [str(path), MAX_LINE_BYTES],
    )
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE _lines AS SELECT rowid + 1 AS _source_row, line FROM _read "
        "WHERE nullif(trim(line, ' ' || chr(13) || chr(9)), '') IS NOT NULL"
    )
    conn.execute("DROP TABLE _read")


def read_jsonl_file(conn: duckdb.DuckDBPyConnection, detected: DetectedFile, profile: VendorProfile) -> ReadOutcome:
    """One record per non-blank line; lines that are not JSON objects are rejected."""
    scan = scan_text_export(Path(detected.path), quoted=False)
    width = len(detected.headers)
    pointers = ["/" + h.replace("~", "~0").replace("/", "~1") for h in detected.headers]
    _read_lines(conn, Path(detected.path))
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE _lines AS SELECT _source_row, line, "
        "CASE WHEN json_valid(line) THEN json_type(line) END AS json_kind FROM _lines"
    )
    conn.execute(
        """
        CREATE OR REPLACE TEMP TABLE _rejects AS
        SELECT _source_row, NULL::VARCHAR AS column_name, NULL::VARCHAR AS raw_value,
               CASE WHEN json_kind IS NULL THEN 'invalid JSON: the line is not valid JSON'
                    ELSE 'not an object: the line is JSON but not an object' END AS reason,
               line AS raw_record
        FROM _lines
        WHERE json_kind IS DISTINCT FROM 'OBJECT'
        """
    )
    extracts = ", ".join(f"field_values[{i + 1}] AS c{i}" for i in range(width))
    conn.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW _in AS
        SELECT _source_row, {extracts}
        FROM (
            SELECT _source_row, json_extract_string(line, {_list_literal(pointers)}) AS field_values
            FROM _lines
            WHERE json_kind = 'OBJECT'
        )
        """
    )
    sql, params = typed_table_sql(detected, profile, from_sql="_in", target="_typed", numbered=True)
    conn.execute(sql, params)
    read = conn.execute("SELECT count(*) FROM _lines").fetchall()[0][0]
    if read != scan.records:
        return ReadOutcome(scan.records, f"the reader saw {read:,} lines but the file holds {scan.records:,}")
    return ReadOutcome(scan.records)


def _list_literal(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]::VARCHAR[]"


def _xlsx_cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number - 1


def _formula_cells_without_values(path: Path) -> list[tuple[int, int, str]]:
    """(sheet row, column index, formula) of the first sheet's formula cells whose cached value cannot be trusted:
    none stored, or a workbook saved by a writer that asks the reader to recalculate (fullCalcOnLoad)."""
    with zipfile.ZipFile(path) as workbook:
        names = workbook.namelist()
        sheet = next((n for n in sorted(names) if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)), None)
        if sheet is None:
            return []
        recalculate = b'fullCalcOnLoad="1"' in workbook.read("xl/workbook.xml") if "xl/workbook.xml" in names else False
        data = workbook.read(sheet)
    if b"<f" not in data:
        return []
    cells = []
    for match in FORMULA_CELL.finditer(data):
        column, row, formula, cached = match.groups()
        if recalculate or cached is None or cached in (b"<v/>", b"<v></v>"):
            cells.append((int(row), _column_number(column), (formula or b"(shared formula)").decode(errors="replace")))
    return cells


def read_xlsx_file(conn: duckdb.DuckDBPyConnection, detected: DetectedFile, profile: VendorProfile) -> ReadOutcome:
    """Workbooks are small by construction (1,048,576 rows at most): read with calamine, hand Arrow to DuckDB.
    Detection has refused workbooks with data on more than one sheet."""
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
    conn.register("_xlsx_rows", pa.table(arrays))
    conn.execute("CREATE OR REPLACE TEMP TABLE _in_rows AS SELECT * FROM _xlsx_rows")
    conn.unregister("_xlsx_rows")
    conn.execute("CREATE OR REPLACE TEMP VIEW _in AS SELECT * FROM _in_rows")
    headers = {position: name for name, position in detected.column_positions}
    formulas = [
        (
            row,
            headers[column],
            None,
            f"formula ={formula} has no cached value (the workbook was saved without "
            "calculating it); open and save it in a spreadsheet program, or export values",
        )
        for row, column, formula in _formula_cells_without_values(Path(detected.path))
        if column in headers
    ]
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE _cell_problems (_source_row BIGINT, column_name VARCHAR, "
        "raw_value VARCHAR, reason VARCHAR)"
    )
    if formulas:
        conn.executemany("INSERT INTO _cell_problems VALUES (?, ?, ?, ?)", formulas)
    sql, params = typed_table_sql(
        detected, profile, from_sql="_in", target="_typed", numbered=True, cell_problems="_cell_problems"
    )
    conn.execute(sql, params)
    conn.execute("DROP VIEW _in")
    conn.execute("DROP TABLE _in_rows")
    conn.execute("DROP TABLE _cell_problems")
    _empty_rejects(conn)
    return ReadOutcome(len(kept))


def read_export(
    conn: duckdb.DuckDBPyConnection, detected: DetectedFile, profile: VendorProfile, scratch_dir: Path
) -> ReadOutcome:
    """Fill `_typed` and `_rejects` for one file; conflicting duplicate keys are flagged in `_typed`."""
    if detected.file_format == "csv":
        outcome = read_csv_file(conn, detected, profile, scratch_dir)
    elif detected.file_format == "jsonl":
        outcome = read_jsonl_file(conn, detected, profile)
    else:
        outcome = read_xlsx_file(conn, detected, profile)
    if outcome.whole_file_reason is None:
        flag_conflicting_duplicates(conn, detected, "_typed")
    return outcome


def quarantine_whole_file_lines(conn: duckdb.DuckDBPyConnection, path: Path, *, has_header: bool) -> None:
    """`_rejects` := every non-blank line (after the header), as it is: the records cannot be trusted."""
    _read_lines(conn, path)
    first = conn.execute("SELECT min(_source_row) FROM _lines").fetchall()[0][0] if has_header else None
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE _rejects AS SELECT _source_row, NULL::VARCHAR AS column_name, "
        "NULL::VARCHAR AS raw_value, NULL::VARCHAR AS reason, line AS raw_record FROM _lines "
        "WHERE _source_row > ?",
        [int(first or 0)],
    )
    conn.execute("DROP TABLE _lines")
