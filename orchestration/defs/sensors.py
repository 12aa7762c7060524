"""Sensors: new exports in the inbox start a run; loaded exports are archived; failed runs are recorded.

Run failures (`record_run_failure`, any job of this code location): recorded once in
<warehouse>/run_failures.jsonl and posted where configured (orchestration/lib/runs/failures.py); a run that
`clientele run` executed is usually recorded by the CLI already. The sensors only tick while the Dagster daemon
runs (`clientele ui` starts one); the failure sensor is on by default, the inbox and archive sensors are
switched on in the UI (Automation).
"""

from datetime import UTC, datetime

import dagster as dg
import duckdb

from orchestration.defs.automation import full_refresh
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.as_of import today_in_schedule_timezone
from orchestration.lib.inbox import InboxCursor, archive_files, file_set_key, loaded_hashes, new_export_files
from orchestration.lib.ingest.errors import IngestError
from orchestration.lib.runs.failures import record_failure_once

ARCHIVE_DIR = "archive"
NEW_FILES_TAG = "clientele/new_files"


@dg.sensor(
    job=full_refresh,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Launches a full refresh when export files with new content arrive in the inbox (by SHA-256: "
    "a re-dropped or renamed file, or one already in raw._ingest_ledger, starts nothing).",
)
def inbox_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    cursor = InboxCursor.parse(context.cursor)
    try:
        new, updated = new_export_files(warehouse.inbox, cursor, loaded_hashes(warehouse.paths.working_db))
    except IngestError as error:
        return dg.SkipReason(str(error))
    context.update_cursor(updated.dump())
    if not new:
        return dg.SkipReason("no export file with new content")
    return dg.RunRequest(
        run_key=file_set_key(new),
        partition_key=today_in_schedule_timezone().isoformat(),
        tags={NEW_FILES_TAG: str(len(new))},
    )


def _run_finished_at(instance: dg.DagsterInstance, run_id: str) -> datetime:
    record = instance.get_run_record_by_id(run_id)
    if record is not None and record.end_time is not None:
        return datetime.fromtimestamp(record.end_time, UTC)
    return datetime.now(UTC)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[full_refresh],
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Moves the exports a successful run loaded to <warehouse>/archive/<run end date>/ (copied and "
    "verified by hash before the original is removed); the ingest ledger keeps their hashes.",
)
def archive_loaded_exports(context: dg.RunStatusSensorContext, warehouse: WarehouseResource):
    run_id = context.dagster_run.run_id
    paths = warehouse.paths
    if not paths.working_db.exists():
        return dg.SkipReason("no working database")
    # raises while another run writes the database; the sensor then retries this run on its next tick
    with duckdb.connect(str(paths.working_db), read_only=True) as conn:
        loaded = conn.execute(
            "select source_file, file_hash from raw._ingest_ledger where run_id = ?", [run_id]
        ).fetchall()
    archive_dir = paths.warehouse_dir / ARCHIVE_DIR / _run_finished_at(context.instance, run_id).date().isoformat()
    archived = archive_files(warehouse.inbox, archive_dir, dict(loaded))
    context.log.info(f"archived {len(archived)} of {len(loaded)} export file(s) of run {run_id} to {archive_dir}")


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records every failed run (failed steps and checks, with samples) in <warehouse>/run_failures.jsonl "
    "unless the CLI that ran it already did; posts it to CLIENTELE_ALERT_WEBHOOK and/or mails CLIENTELE_ALERT_EMAIL "
    "when set (off by default).",
)
def record_run_failure(context: dg.RunFailureSensorContext, warehouse: WarehouseResource):
    record_failure_once(
        context.instance,
        context.dagster_run,
        context.failure_event.message,
        warehouse.paths.warehouse_dir,
        log=context.log.info,
    )
