"""The as-of date of a run (its daily partition) and the schedule's clock: one place for both.

The schedule's cron and timezone are the vars schedule_cron / schedule_timezone of dbt_project.yml, overridden by
CLIENTELE_SCHEDULE_CRON / CLIENTELE_TIMEZONE when the code location starts; the partitions use the same
timezone, so "today" is the same day for the schedule, the inbox sensor and the last partition.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

import dagster as dg

from orchestration.lib.settings import setting

PARTITION_TAG = "dagster/partition"
ENV_SCHEDULE_CRON = "CLIENTELE_SCHEDULE_CRON"
ENV_TIMEZONE = "CLIENTELE_TIMEZONE"


def schedule_cron() -> str:
    return os.environ.get(ENV_SCHEDULE_CRON) or str(setting("schedule_cron"))


def schedule_timezone() -> str:
    return os.environ.get(ENV_TIMEZONE) or str(setting("schedule_timezone"))


def today_in_schedule_timezone() -> date:
    """Today in the schedule's timezone: the partition the nightly run and the inbox sensor ask for."""
    return datetime.now(ZoneInfo(schedule_timezone())).date()


def as_of_of_run(run: dg.DagsterRun) -> date | None:
    key = run.tags.get(PARTITION_TAG)
    return date.fromisoformat(key) if key else None


def as_of_for(context: dg.OpExecutionContext | dg.AssetExecutionContext) -> date:
    """The run's as-of date: its partition. A run without one (ingest alone) checks dates against today."""
    return as_of_of_run(context.run) or today_in_schedule_timezone()
