"""Text values to canonical types, in one set-based pass: every problem becomes a reason, never a guess.

- Numbers follow the profile's declared locale (decimal and thousands separators); a value that does not match
  it (`1.234,50` under a `.` decimal, `12,34` under a `,` thousands separator) is quarantined, never re-read
  under another convention.
- Timestamps with an offset (`Z`, `+08`, `+0800`, `+08:00`) are stored in UTC; naive ones are read in the
  profile's time zone.
- Values beyond a column's plausible range (`meta.plausible_max_abs` in the sources yml, naming a dbt var) are
  quarantined with file, row, column and value, so no later step can be wedged by one raw row (a phone number
  pasted into an amount).
- The same key twice in one file with different values (and the same `updated_at`) quarantines every copy.
"""

from __future__ import annotations

import re

import duckdb

from orchestration.lib.ingest.detect import DetectedFile
from orchestration.lib.schema import CanonicalColumn, VendorProfile, canonical_schema, entity_keys
from orchestration.lib.settings import setting

UTC_ZONES = ("UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu")
# a time of day followed by an offset: a date alone ("2026-03-04") must not read as an offset of -04
OFFSET_PATTERN = r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$"
NUMERIC_TYPES = ("double", "integer", "bigint")


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def number_pattern(profile: VendorProfile) -> str:
    """The shape of a number in the profile's locale: optional sign, digits (grouped by the thousands
    separator, or not at all), an optional fraction after the decimal separator."""
    decimal = re.escape(profile.decimal_separator)
    digits = r"\d+"
    if profile.thousands_separator:
        digits = rf"(\d{{1,3}}({re.escape(profile.thousands_separator)}\d{{3}})+|\d+)"
    return rf"^[+-]?{digits}({decimal}\d+)?$"


def _is_numeric(column: CanonicalColumn) -> bool:
    data_type = column.data_type.lower()
    return data_type.startswith("decimal") or data_type in NUMERIC_TYPES


def _parse_expression(column: CanonicalColumn, text: str, naive_is_utc: bool) -> str:
    """SQL parsing one trimmed text value into the canonical type (NULL when it cannot).

    Uses the named parameters $number_pattern, $thousands_separator, $decimal_separator, $date_formats and
    $timezone.
    """
    data_type = column.data_type.lower()
    if data_type == "varchar":
        return text
    if _is_numeric(column):
        normalised = f"replace(replace({text}, $thousands_separator, ''), $decimal_separator, '.')"
        return (
            f"CASE WHEN regexp_full_match({text}, $number_pattern) "
            f"THEN TRY_CAST({normalised} AS {data_type.upper()}) END"
        )
    vendor_format = f"try_strptime({text}, $date_formats)"
    if data_type == "date":
        return (
            f"coalesce(TRY_CAST({text} AS DATE), "
            f"CASE WHEN regexp_matches({text}, '^\\d{{4}}-\\d{{2}}-\\d{{2}}[T ]') "
            f"THEN TRY_CAST(substr({text}, 1, 10) AS DATE) END, CAST({vendor_format} AS DATE))"
        )
    if data_type == "timestamp":
        naive = f"coalesce(TRY_CAST({text} AS TIMESTAMP), {vendor_format})"
        if not naive_is_utc:
            naive = f"timezone('UTC', timezone($timezone, {naive}))"
        return (
            f"CASE WHEN regexp_matches({text}, '{OFFSET_PATTERN}') "
            f"THEN timezone('UTC', TRY_CAST({text} AS TIMESTAMPTZ)) "
            f"ELSE {naive} END"
        )
    raise ValueError(f"canonical column {column.name} has unsupported data_type {column.data_type!r}")


def _problem(column: str, value: str, reason: str) -> str:
    """A problem struct; `value` and `reason` are SQL expressions."""
    return "{'column': '" + column + "', 'value': " + value + ", 'reason': " + reason + "}"


def _column_checks(column: CanonicalColumn, ident: str, text: str, params: dict, profile: VendorProfile) -> list[str]:
    """SQL expressions giving a problem struct (or NULL) for one column of a row."""
    name = column.name.replace("'", "''")
    checks = []
    if column.required:
        missing = _problem(name, "NULL", "'missing required value'")
        checks.append(f"CASE WHEN {text} IS NULL THEN {missing} END")
    if column.data_type.lower() == "varchar":
        return checks
    if _is_numeric(column):
        reason = f"'does not match the number format of profile {profile.name} (' || $number_pattern || ')'"
        checks.append(
            f"CASE WHEN {text} IS NOT NULL AND NOT regexp_full_match({text}, $number_pattern) "
            f"THEN {_problem(name, text, reason)} END"
        )
        unparsed = f"{text} IS NOT NULL AND {ident} IS NULL AND regexp_full_match({text}, $number_pattern)"
    else:
        unparsed = f"{text} IS NOT NULL AND {ident} IS NULL"
    cannot = "'cannot parse as " + column.data_type + "'"
    checks.append(f"CASE WHEN {unparsed} THEN {_problem(name, text, cannot)} END")
    if column.plausible_max_abs_var:
        limit = f"max_{column.name}"
        params[limit] = float(setting(column.plausible_max_abs_var))
        reason = (
            f"'outside the plausible range: absolute value above ' || ${limit} "
            f"|| ' (var {column.plausible_max_abs_var})'"
        )
        checks.append(f"CASE WHEN abs({ident}) > ${limit} THEN {_problem(name, text, reason)} END")
    return checks


def typed_table_sql(
    detected: DetectedFile,
    profile: VendorProfile,
    *,
    from_sql: str,
    target: str,
    numbered: bool,
    cell_problems: str | None = None,
) -> tuple[str, dict]:
    """CREATE `target`: canonical typed columns, `_problems` (empty list = loadable) and the original record of
    problem rows, in one pass over `from_sql` (text columns c0..cN, plus `_source_row` when `numbered`).

    `cell_problems` names a relation (_source_row, column_name, reason) of problems a reader found in cells
    (e.g. workbook formulas without a cached value); they join the row's problems.
    """
    positions = dict(detected.column_positions)
    value_maps = profile.entities[detected.entity].value_maps
    params: dict = {
        "thousands_separator": profile.thousands_separator or "\x00",
        "decimal_separator": profile.decimal_separator,
        "number_pattern": number_pattern(profile),
        "date_formats": list(profile.date_formats) or ["%Y-%m-%d"],
        "timezone": profile.timezone,
    }
    naive_is_utc = profile.timezone in UTC_ZONES
    texts, parsed, checks = [], [], []
    for column in canonical_schema()[detected.entity]:
        ident = quote_identifier(column.name)
        if column.name not in positions:
            parsed.append(f"CAST(NULL AS {column.data_type.upper()}) AS {ident}")
            continue
        text = quote_identifier(f"t_{column.name}")
        source = f"nullif(trim(c{positions[column.name]}), '')"
        if column.name in value_maps:
            params[f"map_{column.name}"] = value_maps[column.name]
            source = f"coalesce(map_extract(${'map_' + column.name}::MAP(VARCHAR, VARCHAR), {source})[1], {source})"
        texts.append(f"{source} AS {text}")
        parsed.append(f"{_parse_expression(column, text, naive_is_utc)} AS {ident}")
        checks.extend(_column_checks(column, ident, text, params, profile))
    problems = "list_filter([" + ", ".join(checks) + "], lambda p: p IS NOT NULL)" if checks else "[]"
    source_rows = f"(SELECT *, {', '.join(texts)} FROM {from_sql})"
    if cell_problems:
        problems = f"list_concat({problems}, coalesce(_cell_problems, []))"
        source_rows = f"""(
            SELECT * FROM {source_rows} AS rows
            LEFT JOIN (
                SELECT _source_row AS _cell_row,
                       list({{'column': column_name, 'value': raw_value, 'reason': reason}}) AS _cell_problems
                FROM {cell_problems} GROUP BY _source_row
            ) AS cells ON rows._source_row = cells._cell_row
        )"""
    pairs = ", ".join(f"$h{i}, c{i}" for i in range(len(detected.headers)))
    params.update({f"h{i}": header for i, header in enumerate(detected.headers)})
    canonical = ", ".join(quote_identifier(c.name) for c in canonical_schema()[detected.entity])
    row_number = "_source_row, " if numbered else ""
    sql = f"""
        CREATE OR REPLACE TEMP TABLE {target} AS
        SELECT {row_number}{canonical}, _problems,
               CASE WHEN len(_problems) > 0 THEN CAST(json_object({pairs}) AS VARCHAR) END AS _raw_record
        FROM (
            SELECT *, {problems} AS _problems
            FROM (SELECT *, {", ".join(parsed)} FROM {source_rows})
        )
        """
    return sql, {name: value for name, value in params.items() if f"${name}" in sql}


def flag_conflicting_duplicates(conn: duckdb.DuckDBPyConnection, detected: DetectedFile, table: str) -> int:
    """Quarantine every copy of a key that appears more than once in the file with different values (and the
    same `updated_at`, when the entity has one: versions with different times are history, not ambiguity).
    Returns how many rows it flagged."""
    columns = canonical_schema()[detected.entity]
    keys = [quote_identifier(name) for name in entity_keys(detected.entity)]
    names = {c.name for c in columns}
    version = [quote_identifier("updated_at")] if "updated_at" in names else []
    group = ", ".join(keys + version)
    content = "hash(" + ", ".join(quote_identifier(c.name) for c in columns) + ")"
    repeated = conn.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE len(_problems) = 0 GROUP BY {group} "
        "HAVING count(*) > 1 LIMIT 1)"
    ).fetchall()[0][0]
    if not repeated:
        return 0
    key_text = " || ', ' || ".join(f"CAST(t.{k} AS VARCHAR)" for k in keys)
    conn.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _conflicts AS
        SELECT {group}, list(_source_row ORDER BY _source_row) AS conflict_rows
        FROM {table}
        WHERE len(_problems) = 0
        GROUP BY {group}
        HAVING count(*) > 1 AND count(DISTINCT {content}) > 1
        """
    )
    match = " AND ".join(f"t.{k} IS NOT DISTINCT FROM c.{k}" for k in keys + version)
    record = ", ".join(f"'{c.name}': t.{quote_identifier(c.name)}" for c in columns)
    key_name = entity_keys(detected.entity)[0]
    reason = (
        "'the same key appears on lines ' || array_to_string(c.conflict_rows, ', ') "
        "|| ' of this file with different values; every copy is quarantined'"
    )
    flagged = conn.execute(
        f"""
        UPDATE {table} AS t
        SET _problems = [{_problem(key_name, key_text, reason)}],
            _raw_record = CAST(to_json({{{record}}}) AS VARCHAR)
        FROM _conflicts AS c
        WHERE {match}
        """
    ).fetchall()[0][0]
    conn.execute("DROP TABLE _conflicts")
    return int(flagged)
