"""What every suite needs: the expectation vocabulary, thresholds (dbt vars), the FX reference set and vocabularies
(from their sources).

Suites are written with GX's own expectation classes and arguments (`expect.ExpectColumnValuesToBeBetween(...)`),
recorded here without importing Great Expectations: a run validates them with the SQL pushdown
(orchestration/lib/quality_sql.py), which reads an expectation's type and arguments; `to_gx()` builds the real GX
suite for the GX reference path (orchestration/lib/quality.py), which the parity tests compare with the pushdown.
Importing GX costs ~4.5 s per process, so only the reference path pays it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from types import SimpleNamespace

import yaml

from orchestration.lib.settings import DBT_PROJECT_DIR, RAW_SOURCES_YML, setting


@dataclass(frozen=True)
class Expectation:
    """One GX expectation as its class name and arguments."""

    class_name: str
    arguments: Mapping = field(default_factory=dict)

    @property
    def expectation_type(self) -> str:
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.class_name).lower()

    @property
    def severity(self) -> str:
        return str(self.arguments.get("severity", "critical"))

    @property
    def configuration(self) -> SimpleNamespace:
        """The arguments GX keeps in `configuration.kwargs` (severity is an attribute of the expectation)."""
        return SimpleNamespace(kwargs={k: v for k, v in self.arguments.items() if k != "severity"})

    def to_gx(self):
        import great_expectations as gx

        return getattr(gx.expectations, self.class_name)(**self.arguments)


class _Expectations:
    """`expect.ExpectColumnValuesToNotBeNull(column=...)`: GX's expectation classes, recorded."""

    def __getattr__(self, class_name: str):
        if not class_name.startswith("Expect"):
            raise AttributeError(class_name)
        return lambda **arguments: Expectation(class_name, arguments)


expect = _Expectations()


@dataclass(frozen=True)
class Suite:
    name: str
    expectations: list[Expectation]

    def to_gx(self):
        import great_expectations as gx

        return gx.ExpectationSuite(name=self.name, expectations=[e.to_gx() for e in self.expectations])


EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE_PATTERN = r"^(?:[ ()./+-]*[0-9]){6,15}[ ()./-]*$"  # 6-15 digits with the usual separators
WARNING = "warning"


def tolerated() -> float:
    """`mostly` of blocking value rules: a share of rows up to quality_max_invalid_row_share only warns."""
    return 1.0 - float(setting("quality_max_invalid_row_share"))


@dataclass(frozen=True)
class SuiteContext:
    """The run a suite validates: its as-of date, and the day its rows were loaded (back-dated runs over
    newer exports must not reject rows dated after the as-of date; the models ignore them)."""

    as_of: date
    loaded_on: date | None = None

    @property
    def earliest(self) -> datetime:
        """No CRM date before quality_earliest_date."""
        return datetime.fromisoformat(str(setting("quality_earliest_date")))

    @property
    def latest(self) -> datetime:
        """No CRM date after the end of the day after as_of, or after the load day (time zones, late exports)."""
        newest = max(self.as_of, self.loaded_on or self.as_of)
        return datetime.combine(newest + timedelta(days=1), time.max)


@cache
def fx_currencies() -> tuple[str, ...]:
    with open(DBT_PROJECT_DIR / "seeds" / "fx_rates.csv", encoding="utf-8") as handle:
        return tuple(sorted(row["currency"] for row in csv.DictReader(handle)))


@cache
def vocabulary(entity: str, column: str) -> tuple[str, ...]:
    """Canonical values of a raw column: `config.meta.vocabulary` in `_crm__sources.yml`."""
    with open(RAW_SOURCES_YML, encoding="utf-8") as handle:
        doc = yaml.safe_load(handle)
    for source in doc["sources"]:
        for table in source["tables"]:
            if table["name"] != entity:
                continue
            for col in table["columns"]:
                if col["name"] == column:
                    return tuple(col["config"]["meta"]["vocabulary"])
    raise KeyError(f"no vocabulary for {entity}.{column} in {RAW_SOURCES_YML}")
