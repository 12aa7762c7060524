"""Jobs, the nightly schedule and the freshness of what BI reads.

Every writing step is in the `clientele_warehouse` pool; the instance (orchestration/instance/dagster.yaml) runs
one run using that pool at a time, so the schedule, the inbox sensor and a manual run never collide on DuckDB.
`full_refresh` and `segments_only` are partitioned by the as-of date (defs/partitions.py): launched from the UI
they ask for a date, and a range of dates is a backfill. The nightly schedule is built from `full_refresh`: at
schedule_cron in schedule_timezone it runs the partition of that day (orchestration/lib/as_of.py).
"""

from datetime import timedelta

import dagster as dg

from orchestration.defs.publish import PUBLISHED_MARTS_KEY
from orchestration.lib.as_of import schedule_cron, schedule_timezone
from orchestration.lib.settings import setting

FULL_REFRESH_JOB = "full_refresh"
SEGMENTS_ONLY_JOB = "segments_only"
INGEST_JOB = "ingest"
NIGHTLY_SCHEDULE = "nightly_refresh"
FRESHNESS_SENSOR = "published_marts_freshness"

full_refresh = dg.define_asset_job(
    FULL_REFRESH_JOB,
    selection=dg.AssetSelection.all(include_sources=False),
    description="Scan the inbox, load new exports, judge them, build every model and mart as of the partition's "
    "date, run every check, publish (a publication only moves forward: an earlier date writes its history only).",
)

segments_only = dg.define_asset_job(
    SEGMENTS_ONLY_JOB,
    selection=dg.AssetSelection.all(include_sources=False) - dg.AssetSelection.groups("ingest"),
    description="Rebuild models, CLV, segments, history and marts as of the partition's date from the raw data "
    "already loaded and accepted, check and publish (no inbox scan): for backfills and changed thresholds.",
)

ingest = dg.define_asset_job(
    INGEST_JOB,
    selection=dg.AssetSelection.groups("ingest"),
    description="Scan the inbox, load new exports and judge them with the raw gate (no models): what a backfill "
    "runs once before rebuilding its dates.",
)


def daily_time(cron: str) -> tuple[int, int]:
    """(hour, minute) of a daily cron "M H * * *": the partitions are days, so the nightly run is daily."""
    fields = cron.split()
    if len(fields) != 5 or fields[2:] != ["*", "*", "*"] or not (fields[0].isdigit() and fields[1].isdigit()):
        raise ValueError(f"schedule_cron must be a daily cron 'M H * * *' (the as-of date is a day), got {cron!r}")
    return int(fields[1]), int(fields[0])


def build_nightly_schedule(cron: str, timezone: str) -> dg.ScheduleDefinition:
    """The nightly full refresh of the day's partition, at the cron's time of day in the partitions' timezone;
    Dagster's run key is the partition, so a date runs once."""
    hour, minute = daily_time(cron)
    return dg.build_schedule_from_partitioned_job(
        full_refresh,
        name=NIGHTLY_SCHEDULE,
        hour_of_day=hour,
        minute_of_hour=minute,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=f"Full refresh at {hour:02d}:{minute:02d} ({timezone}) of that day's partition. Re-running a "
        "date by hand replaces that date's history.",
    )


@dg.definitions
def automation_definitions() -> dg.Definitions:
    """Jobs, the schedule and the freshness check with its sensor (a module with a definitions function is
    loaded through it only)."""
    checks = dg.build_last_update_freshness_checks(
        assets=[PUBLISHED_MARTS_KEY],
        lower_bound_delta=timedelta(hours=float(setting("published_max_age_hours"))),
    )
    return dg.Definitions(
        jobs=[full_refresh, segments_only, ingest],
        schedules=[build_nightly_schedule(schedule_cron(), schedule_timezone())],
        asset_checks=checks,
        sensors=[dg.build_sensor_for_freshness_checks(freshness_checks=checks, name=FRESHNESS_SENSOR)],
    )
