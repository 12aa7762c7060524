"""Jobs (and, with the automation issue, schedules and sensors)."""

import dagster as dg

WRITER_TAGS = {"clientele/warehouse": "writer"}
FULL_REFRESH_JOB = "full_refresh"

full_refresh = dg.define_asset_job(
    FULL_REFRESH_JOB,
    selection=dg.AssetSelection.all(include_sources=False),
    description="Scan the inbox, load new exports, build every model and mart, run every check, publish.",
    tags=WRITER_TAGS,
)
