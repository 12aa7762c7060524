"""GX suites evaluated where the data is: each expectation of a suite becomes SQL aggregates over the suite's
`COLUMNS` projection, all in one DuckDB scan of the table. Same outcomes and metadata as the GX pandas path
(`orchestration.lib.quality.validate`), which stays the reference semantics (a parity test compares them).

`validate_in_duckdb(conn, suite, as_of, where, params)` returns the same `ExpectationOutcome`s as
`validate(read_columns(conn, suite, where, params), suite, as_of)`, in seconds instead of minutes at 10M rows.
Expectation types without a SQL form raise `NotImplementedError` (call the GX pandas path for that suite).

With `lineage` (raw tables), the same scan also counts each rule's offending rows per export file and samples
them as records ("orders.csv line 102, order_id O5: -25.00"), so a failure names what to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb

from orchestration.lib.quality import SAMPLE_SIZE, ExpectationOutcome, SuiteModule, check_name, is_blocking

# row_condition (pandas parser) of the form  column != "value"  /  column == "value"
_SIMPLE_CONDITION = re.compile(r"""^\s*(\w+)\s*(==|!=)\s*["']([^"']*)["']\s*$""")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Params:
    """Values bound as named parameters ($p0, $p1, ...), never spliced into the SQL."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def bind(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"


@dataclass(frozen=True)
class Lineage:
    """Where a raw row came from, as SQL over the validated relation: its file id and line, and a label of
    its key (e.g. "order_id O5"); `file_names` maps file ids to the names shown in samples."""

    key_label: str
    file_names: dict[int, str]
    file_id: str = "_file_id"
    row: str = "_source_row"


_OPERATORS = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def _comparison(column: str, operator: str, value: Any, params: _Params) -> str:
    """pandas semantics: a missing value compares unequal to everything, and fails every other comparison."""
    if operator not in _OPERATORS:
        raise NotImplementedError(f"row_condition operator {operator!r} has no SQL form here")
    test = f"{_quote(column)} {_OPERATORS[operator]} {params.bind(value)}"
    return f"({_quote(column)} is null or {test})" if operator == "!=" else f"coalesce({test}, false)"


def _condition_sql(condition: Any, params: _Params) -> str:
    """A GX row condition as SQL: Condition objects (comparison / and / or) or a simple pandas string."""
    if isinstance(condition, str):
        match = _SIMPLE_CONDITION.match(condition)
        if match is None:
            raise NotImplementedError(f"row_condition {condition!r} has no SQL form here")
        column, operator, value = match.groups()
        return _comparison(column, operator, value, params)
    kind = condition.get("type")
    if kind == "pass_through":
        return _condition_sql(condition.get("pass_through_filter", ""), params)
    if kind == "comparison":
        return _comparison(condition["column"]["name"], condition["operator"], condition["parameter"], params)
    if kind in ("and", "or"):
        return "(" + f" {kind} ".join(_condition_sql(c, params) for c in condition["conditions"]) + ")"
    raise NotImplementedError(f"row_condition {condition!r} has no SQL form here")


def _row_filter(kwargs: dict, params: _Params) -> str:
    condition = kwargs.get("row_condition")
    if not condition:
        return "true"
    if isinstance(condition, str) and kwargs.get("condition_parser") not in (None, "pandas"):
        raise NotImplementedError(f"condition_parser {kwargs.get('condition_parser')!r}")
    return _condition_sql(condition, params)


def _valid_condition(expectation_type: str, kwargs: dict, params: _Params) -> str:
    """SQL that is true for a non-null value the expectation accepts."""
    column = _quote(kwargs["column"])
    if expectation_type == "expect_column_values_to_be_between":
        parts = []
        if kwargs.get("min_value") is not None:
            parts.append(f"{column} {'>' if kwargs.get('strict_min') else '>='} {params.bind(kwargs['min_value'])}")
        if kwargs.get("max_value") is not None:
            parts.append(f"{column} {'<' if kwargs.get('strict_max') else '<='} {params.bind(kwargs['max_value'])}")
        return " and ".join(parts) or "true"
    if expectation_type == "expect_column_values_to_be_in_set":
        return f"list_contains({params.bind(list(kwargs['value_set']))}, {column})"
    if expectation_type == "expect_column_values_to_not_be_in_set":
        return f"not list_contains({params.bind(list(kwargs['value_set']))}, {column})"
    if expectation_type == "expect_column_values_to_match_regex":
        return f"regexp_matches(cast({column} as varchar), {params.bind(kwargs['regex'])})"
    raise NotImplementedError(expectation_type)


def _sample(value: str, lineage: Lineage | None) -> str:
    if lineage is None:
        return value
    return f"{{'file_id': _lineage_file, 'row': _lineage_row, 'key': _lineage_key, 'value': cast({value} as varchar)}}"


def _by_file(condition: str, lineage: Lineage | None, prefix: str) -> str:
    return f", histogram(_lineage_file) filter (where {condition}) as {prefix}by_file" if lineage else ""


def _aggregates(expectation, index: int, params: _Params, lineage: Lineage | None = None) -> tuple[str, str]:
    """(select list, kind) computing one expectation's counts over the projected rows."""
    kind = expectation.expectation_type
    kwargs = expectation.configuration.kwargs
    scope = _row_filter(kwargs, params)
    p = f"e{index}_"
    if kind == "expect_column_values_to_not_be_null":
        column = _quote(kwargs["column"])
        missing = f"{scope} and {column} is null"
        samples = (
            f", min({_sample('null', lineage)}, {SAMPLE_SIZE}) filter (where {missing}) as {p}sample" if lineage else ""
        )
        return (
            f"count(*) filter (where {scope}) as {p}elements, "
            f"count(*) filter (where {missing}) as {p}unexpected{samples}{_by_file(missing, lineage, p)}",
            "not_null",
        )
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = _quote(kwargs["column_A"]), _quote(kwargs["column_B"])
        if kwargs.get("ignore_row_if") not in ("either_value_is_missing", "any_value_is_missing"):
            raise NotImplementedError("pair expectation without ignore_row_if=either_value_is_missing")
        valid = f"{a} {'>=' if kwargs.get('or_equal') else '>'} {b}"
        considered = f"{scope} and {a} is not null and {b} is not null"
        failing = f"{considered} and not ({valid})"
        pair = f"[cast({a} as varchar), cast({b} as varchar)]"
        sample = _sample(f"array_to_string({pair}, ' vs ')", lineage) if lineage else pair
        return (
            f"count(*) filter (where {scope}) as {p}elements, "
            f"count(*) filter (where {considered}) as {p}nonnull, "
            f"count(*) filter (where {failing}) as {p}unexpected, "
            f"min({sample}, {SAMPLE_SIZE}) filter (where {failing}) as {p}sample{_by_file(failing, lineage, p)}",
            "map",
        )
    if kind == "expect_column_mean_to_be_between":
        return f"avg({_quote(kwargs['column'])}) filter (where {scope}) as {p}observed", "mean"
    if kind == "expect_column_distinct_values_to_contain_set":
        column = _quote(kwargs["column"])
        return f"list(distinct {column}) filter (where {scope} and {column} is not null) as {p}observed", "distinct"
    column = _quote(kwargs["column"])
    valid = _valid_condition(kind, kwargs, params)
    considered = f"{scope} and {column} is not null"
    failing = f"{considered} and not ({valid})"
    return (
        f"count(*) filter (where {scope}) as {p}elements, "
        f"count(*) filter (where {considered}) as {p}nonnull, "
        f"count(*) filter (where {failing}) as {p}unexpected, "
        f"min({_sample(column, lineage)}, {SAMPLE_SIZE}) filter (where {failing}) as {p}sample"
        f"{_by_file(failing, lineage, p)}",
        "map",
    )


def _jsonable(values, lineage: Lineage | None = None) -> list:
    if lineage is not None:
        return [
            f"{lineage.file_names.get(v['file_id'], v['file_id'])} line {v['row']}, {v['key']}: {v['value']}"
            for v in values or []
        ]
    return [v if isinstance(v, (int, float, str, bool)) or v is None else str(v) for v in (values or [])]


def _between(value: float, kwargs: dict) -> bool:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low is not None and (value <= low if kwargs.get("strict_min") else value < low):
        return False
    return not (high is not None and (value >= high if kwargs.get("strict_max") else value > high))


def validate_in_duckdb(
    conn: duckdb.DuckDBPyConnection,
    suite: SuiteModule,
    as_of: date,
    where: str = "",
    params: list | None = None,
    loaded_on: date | None = None,
    *,
    relation: str | None = None,
    lineage: Lineage | None = None,
) -> list[ExpectationOutcome]:
    """Validate the suite with one aggregate query over `relation` (default `suite.table`; rows restricted by
    `where`). With `lineage`, offending rows are also counted per file and sampled as records."""
    expectations = suite.suite(as_of, loaded_on).expectations
    bound = _Params()
    selects, kinds = [], []
    for index, expectation in enumerate(expectations):
        select, kind = _aggregates(expectation, index, bound, lineage)
        selects.append(select)
        kinds.append(kind)
    # positional parameters of `where` become named ones so both kinds can be bound together
    where_sql = where
    for value in params or []:
        where_sql = where_sql.replace("?", bound.bind(value), 1)
    projection = ", ".join(f"{sql} as {_quote(name)}" for name, sql in suite.columns.items())
    if lineage is not None:
        projection += (
            f", {lineage.file_id} as _lineage_file, {lineage.row} as _lineage_row, {lineage.key_label} as _lineage_key"
        )
    sql = (
        f"select count(*) as rows_validated, {', '.join(selects)} "
        f"from (select {projection} from {relation or suite.table} {where_sql})"
    )
    cursor = conn.execute(sql, bound.values)
    names = [d[0] for d in cursor.description]
    row = dict(zip(names, cursor.fetchone(), strict=True))
    rows = int(row["rows_validated"])
    outcomes = []
    for index, (expectation, kind) in enumerate(zip(expectations, kinds, strict=True)):
        kwargs = expectation.configuration.kwargs
        p = f"e{index}_"
        metadata: dict[str, Any] = {
            "expectation": expectation.expectation_type,
            "kwargs": {k: str(v) for k, v in kwargs.items() if k != "batch_id"},
            "rows_validated": rows,
            "severity": "ERROR (blocking)" if is_blocking(expectation) else "WARN",
            "engine": "duckdb",
        }
        if rows == 0:
            metadata["note"] = "no rows to check"
            outcomes.append(ExpectationOutcome(check_name(expectation), True, is_blocking(expectation), metadata))
            continue
        mostly = kwargs.get("mostly")
        mostly = 1.0 if mostly is None else float(mostly)
        if kind in ("not_null", "map"):
            unexpected = int(row[f"{p}unexpected"])
            denominator = int(row[f"{p}elements"]) if kind == "not_null" else int(row[f"{p}nonnull"])
            share = unexpected / denominator if denominator else 0.0
            success = denominator == 0 or (1 - share) >= mostly
            metadata["unexpected_count"] = unexpected
            metadata["unexpected_percent"] = round(100 * share, 4)
            metadata["unexpected_sample"] = (
                _jsonable(row.get(f"{p}sample"), lineage) if kind == "map" or lineage is not None else []
            )
        elif kind == "mean":
            observed = row[f"{p}observed"]
            success = observed is not None and _between(float(observed), kwargs)
            metadata["observed_value"] = str(observed)
        else:  # distinct
            observed = set(row[f"{p}observed"] or [])
            success = set(kwargs["value_set"]) <= observed
            metadata["observed_value"] = str(sorted(observed, key=str))
        passed, blocking = success, is_blocking(expectation)
        if passed and metadata.get("unexpected_count"):
            passed, blocking = False, False
            metadata["severity"] = "WARN (within the tolerated share of invalid rows)"
        by_file = {int(k): int(v) for k, v in (row.get(f"{p}by_file") or {}).items()}
        outcomes.append(ExpectationOutcome(check_name(expectation), passed, blocking, metadata, by_file))
    return outcomes
