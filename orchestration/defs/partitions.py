"""The as-of date is a daily partition: every model, check, publication and history row is computed as of the
end of that day. Ingest is not partitioned (it loads whatever arrives). The last partition is today in the
schedule's timezone, so the nightly run is as of the day it runs; the first is the var partitions_start_date."""

import dagster as dg

from orchestration.lib.as_of import schedule_timezone
from orchestration.lib.settings import setting

as_of_partitions = dg.DailyPartitionsDefinition(
    start_date=str(setting("partitions_start_date")),
    timezone=schedule_timezone(),
    end_offset=1,
)
