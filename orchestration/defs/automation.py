"""Jobs, the nightly schedule and the freshness of what BI reads.

Runs of both jobs carry the tag clientele/warehouse=writer; the instance (orchestration/instance/dagster.yaml)
starts one such run at a time, so the schedule, the inbox sensor and a manual run never collide on DuckDB.
"""

import os
from datetime import timedelta

import dagster as dg

from orchestration.defs.publish import PUBLISHED_MARTS_KEY
from orchestration.lib.run_tags import AS_OF_TAG
from orchestration.lib.settings import setting

WRITER_TAGS = {"clientele/warehouse": "writer"}
FULL_REFRESH_JOB = "full_refresh"
SEGMENTS_ONLY_JOB = "segments_only"
ENV_SCHEDULE_CRON = "CLIENTELE_SCHEDULE_CRON"
ENV_TIMEZONE = "CLIENTELE_TIMEZONE"
DEFAULT_CRON = "0 2 * * *"

full_refresh = dg.define_asset_job(
    FULL_REFRESH_JOB,
    selection=dg.AssetSelection.all(include_sources=False),
    description="Scan the inbox, load new exports, build every model and mart, run every check, publish.",
    tags=WRITER_TAGS,
)

segments_only = dg.define_asset_job(
    SEGMENTS_ONLY_JOB,
    selection=dg.AssetSelection.all(include_sources=False) - dg.AssetSelection.groups("ingest"),
    description="Rebuild models, CLV, segments and marts from the raw data already loaded, check and publish "
    "(no inbox scan): for a new as-of date or changed thresholds.",
    tags=WRITER_TAGS,
)


@dg.schedule(
    cron_schedule=os.environ.get(ENV_SCHEDULE_CRON, DEFAULT_CRON),
    execution_timezone=os.environ.get(ENV_TIMEZONE, "UTC"),
    job=full_refresh,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Nightly full refresh as of the scheduled date (CLIENTELE_SCHEDULE_CRON, CLIENTELE_TIMEZONE). "
    "The run key is the date, so a date runs once; re-running it by hand replaces that date's history.",
)
def nightly_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    as_of = context.scheduled_execution_time.date().isoformat()
    return dg.RunRequest(run_key=as_of, tags={AS_OF_TAG: as_of})


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
        schedules=[nightly_refresh],
        asset_checks=checks,
        sensors=[dg.build_sensor_for_freshness_checks(freshness_checks=checks, name="published_marts_freshness")],
    )
