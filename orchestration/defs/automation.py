"""Jobs, the nightly schedule and the freshness of what BI reads.

Every writing step is in the `clientele_warehouse` pool; the instance (orchestration/instance/dagster.yaml) runs
one run using that pool at a time, so the schedule, the inbox sensor and a manual run never collide on DuckDB.
The schedule's cron and timezone are the vars schedule_cron / schedule_timezone of dbt_project.yml, overridden
by CLIENTELE_SCHEDULE_CRON / CLIENTELE_TIMEZONE.
"""

import os
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from orchestration.defs.publish import PUBLISHED_MARTS_KEY
from orchestration.lib.run_tags import AS_OF_TAG
from orchestration.lib.settings import setting

FULL_REFRESH_JOB = "full_refresh"
SEGMENTS_ONLY_JOB = "segments_only"
NIGHTLY_SCHEDULE = "nightly_refresh"
FRESHNESS_SENSOR = "published_marts_freshness"
ENV_SCHEDULE_CRON = "CLIENTELE_SCHEDULE_CRON"
ENV_TIMEZONE = "CLIENTELE_TIMEZONE"

full_refresh = dg.define_asset_job(
    FULL_REFRESH_JOB,
    selection=dg.AssetSelection.all(include_sources=False),
    description="Scan the inbox, load new exports, build every model and mart, run every check, publish.",
)

segments_only = dg.define_asset_job(
    SEGMENTS_ONLY_JOB,
    selection=dg.AssetSelection.all(include_sources=False) - dg.AssetSelection.groups("ingest"),
    description="Rebuild models, CLV, segments and marts from the raw data already loaded, check and publish "
    "(no inbox scan): for a new as-of date or changed thresholds.",
)


def schedule_cron() -> str:
    return os.environ.get(ENV_SCHEDULE_CRON) or str(setting("schedule_cron"))


def schedule_timezone() -> str:
    return os.environ.get(ENV_TIMEZONE) or str(setting("schedule_timezone"))


def scheduled_today() -> date:
    """Today in the schedule's timezone: the as-of date of runs started by the schedule or a sensor."""
    return datetime.now(ZoneInfo(schedule_timezone())).date()


def build_nightly_schedule(cron: str, timezone: str) -> dg.ScheduleDefinition:
    """The nightly full refresh as of the scheduled date (in `timezone`); the run key is that date."""

    @dg.schedule(
        name=NIGHTLY_SCHEDULE,
        cron_schedule=cron,
        execution_timezone=timezone,
        job=full_refresh,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=f"Full refresh at '{cron}' ({timezone}) as of the scheduled date; the run key is the date, so "
        "a date runs once. Re-running a date by hand replaces that date's history.",
    )
    def nightly_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        scheduled = context.scheduled_execution_time
        zone = ZoneInfo(timezone)
        local = scheduled.replace(tzinfo=zone) if scheduled.tzinfo is None else scheduled.astimezone(zone)
        as_of = local.date().isoformat()
        return dg.RunRequest(run_key=as_of, tags={AS_OF_TAG: as_of})

    return nightly_refresh


@dg.definitions
def automation_definitions() -> dg.Definitions:
    """Jobs, the schedule and the freshness check with its sensor (a module with a definitions function is
    loaded through it only)."""
    checks = dg.build_last_update_freshness_checks(
        assets=[PUBLISHED_MARTS_KEY],
        lower_bound_delta=timedelta(hours=float(setting("published_max_age_hours"))),
    )
    return dg.Definitions(
        jobs=[full_refresh, segments_only],
        schedules=[build_nightly_schedule(schedule_cron(), schedule_timezone())],
        asset_checks=checks,
        sensors=[dg.build_sensor_for_freshness_checks(freshness_checks=checks, name=FRESHNESS_SENSOR)],
    )
