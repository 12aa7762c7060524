"""What every suite needs: thresholds (dbt vars), the FX reference set and vocabularies (from their sources)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

import yaml

from orchestration.lib.settings import DBT_PROJECT_DIR, RAW_SOURCES_YML, setting

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
