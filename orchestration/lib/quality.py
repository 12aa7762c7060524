"""Great Expectations 1.x wired into Dagster without dagster-ge: suites as code in `expectations/`, validated on
the columns they need, read from DuckDB as one Arrow-backed pandas frame, in an in-memory GX context.

Every expectation becomes one Dagster asset check named `gx_<expectation>__<column>`; GX's `critical`
severity maps to ERROR (blocking), `warning` to WARN. A critical rule with `mostly` < 1 that finds invalid rows
within its tolerated share fails as a WARN: visible, not blocking.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from types import ModuleType
from typing import Any

import duckdb

from expectations import SUITE_MODULES

SAMPLE_SIZE = 10


@dataclass(frozen=True)
class SuiteModule:
    name: str
    asset_path: tuple[str, ...]
    table: str
    columns: dict[str, str]
    module: ModuleType

    def suite(self, as_of: date, loaded_on: date | None = None):
        from expectations._common import SuiteContext

        return self.module.suite(SuiteContext(as_of=as_of, loaded_on=loaded_on))

    def suite_expectations(self) -> list[ExpectationSpec]:
        """Name, severity and description of each expectation (the as-of date only moves date bounds)."""
        return [
            ExpectationSpec(check_name(e), is_blocking(e), describe_expectation(e))
            for e in self.suite(date(2000, 1, 1)).expectations
        ]


@dataclass(frozen=True)
class ExpectationSpec:
    check_name: str
    blocking: bool
    description: str


@dataclass(frozen=True)
class ExpectationOutcome:
    check_name: str
    passed: bool
    blocking: bool
    metadata: dict[str, Any]
    unexpected_by_file: dict[int, int] = field(default_factory=dict)  # file id -> rows breaking the rule


def suite_modules() -> list[SuiteModule]:
    modules = []
    for name in SUITE_MODULES:
        module = importlib.import_module(f"expectations.{name}")
        asset = module.ASSET if isinstance(module.ASSET, tuple) else (module.ASSET,)
        modules.append(SuiteModule(name, asset, module.TABLE, dict(module.COLUMNS), module))
    return modules


def _bound(value) -> str:
    if isinstance(value, date | datetime):  # date bounds move with the run: say which
        return "the run's date window (quality_earliest_date to the day after the as-of or load date)"
    return str(value)


def describe_expectation(expectation) -> str:
    """The rule in words with its bounds, values and tolerance, e.g. "amount between 0 and (no maximum) where
    status != "refunded", for at least 99.9% of rows; blocking"."""
    kwargs = expectation.configuration.kwargs
    column = kwargs.get("column")
    kind = expectation.expectation_type
    if kind == "expect_column_values_to_not_be_null":
        rule = f"{column} is present"
    elif kind == "expect_column_values_to_be_between":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        if isinstance(low, date | datetime) or isinstance(high, date | datetime):
            rule = f"{column} within {_bound(low)}"
        else:
            low_text = "(no minimum)" if low is None else low
            rule = f"{column} between {low_text} and {'(no maximum)' if high is None else high}"
    elif kind == "expect_column_values_to_be_in_set":
        values = list(kwargs.get("value_set") or [])
        shown = ", ".join(str(v) for v in values[:12]) + (f", ... ({len(values)} values)" if len(values) > 12 else "")
        rule = f"{column} is one of: {shown}"
    elif kind == "expect_column_values_to_match_regex":
        rule = f"{column} matches {kwargs.get('regex')}"
    elif kind == "expect_column_pair_values_a_to_be_greater_than_b":
        relation = ">=" if kwargs.get("or_equal") else ">"
        rule = f"{kwargs.get('column_A')} {relation} {kwargs.get('column_B')} where both are present"
    elif kind == "expect_column_mean_to_be_between":
        rule = f"mean of {column} between {kwargs.get('min_value')} and {kwargs.get('max_value')}"
    elif kind == "expect_column_distinct_values_to_contain_set":
        rule = f"{column} takes every value of: {', '.join(str(v) for v in kwargs.get('value_set') or [])}"
    else:
        rule = kind.replace("_", " ") + (f" ({column})" if column else "")
    condition = kwargs.get("row_condition")
    if isinstance(condition, dict) and "pass_through_filter" in condition:
        condition = condition["pass_through_filter"]
    if condition:
        rule += f" where {condition}"
    mostly = kwargs.get("mostly")
    if not is_blocking(expectation):
        return rule + "; warning"
    if mostly is not None and float(mostly) < 1:
        return rule + f"; blocking when more than {1 - float(mostly):.1%} of the rows break it (fewer only warn)"
    return rule + "; blocking"


def check_name(expectation) -> str:
    kwargs = expectation.configuration.kwargs
    columns = [kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)]
    return "gx_" + expectation.expectation_type.removeprefix("expect_") + "".join(f"__{c}" for c in columns)


def is_blocking(expectation) -> bool:
    return str(getattr(expectation, "severity", "critical")).lower().endswith("critical")


@cache
def _batch_definition():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("clientele")
    return source.add_dataframe_asset("table").add_batch_definition_whole_dataframe("whole")


def read_columns(conn: duckdb.DuckDBPyConnection, suite: SuiteModule, where: str = "", params: list | None = None):
    select = ", ".join(f"{sql} as {name}" for name, sql in suite.columns.items())
    return conn.execute(f"select {select} from {suite.table} {where}", params or []).df()


def _jsonable(values: list) -> list:
    return [value if isinstance(value, (int, float, str, bool)) or value is None else str(value) for value in values]


def validate(frame, suite: SuiteModule, as_of: date, loaded_on: date | None = None) -> list[ExpectationOutcome]:
    """Validate a frame with GX itself; one outcome per expectation, in suite order (the reference semantics)."""
    expectations = suite.suite(as_of, loaded_on).expectations
    if frame.empty:
        return [
            ExpectationOutcome(check_name(e), True, is_blocking(e), {"rows_validated": 0, "note": "no rows to check"})
            for e in expectations
        ]
    import great_expectations as gx

    gx_expectations = [e.to_gx() if hasattr(e, "to_gx") else e for e in expectations]
    results = (
        _batch_definition()
        .get_batch(batch_parameters={"dataframe": frame})
        .validate(gx.ExpectationSuite(name=suite.name, expectations=gx_expectations), result_format="SUMMARY")
        .results
    )
    outcomes = []
    for expectation, result in zip(expectations, results, strict=True):
        details = result.result or {}
        metadata: dict[str, Any] = {
            "expectation": expectation.expectation_type,
            "kwargs": {k: str(v) for k, v in expectation.configuration.kwargs.items() if k != "batch_id"},
            "rows_validated": len(frame),
            "severity": "ERROR (blocking)" if is_blocking(expectation) else "WARN",
        }
        if "unexpected_count" in details:
            metadata["unexpected_count"] = int(details["unexpected_count"] or 0)
            metadata["unexpected_percent"] = round(float(details.get("unexpected_percent") or 0.0), 4)
            metadata["unexpected_sample"] = _jsonable(list(details.get("partial_unexpected_list") or [])[:SAMPLE_SIZE])
        if "observed_value" in details:
            metadata["observed_value"] = str(details["observed_value"])
        if result.exception_info and result.exception_info.get("raised_exception"):
            metadata["exception"] = str(result.exception_info.get("exception_message"))
        passed, blocking = bool(result.success), is_blocking(expectation)
        if passed and metadata.get("unexpected_count"):
            # Within the tolerated share (`mostly`): shown as a failed warning, never blocking.
            passed, blocking = False, False
            metadata["severity"] = "WARN (within the tolerated share of invalid rows)"
        outcomes.append(ExpectationOutcome(check_name(expectation), passed, blocking, metadata))
    return outcomes
