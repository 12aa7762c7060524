"""Sensors: new exports in the inbox start a run; loaded exports are archived; failed runs are recorded.

Notifications: set CLIENTELE_ALERT_WEBHOOK (a Slack incoming webhook or any URL accepting a JSON POST) and
every failure record is also posted there. Off by default; the record file is always written.
"""

import json
import os
import urllib.request
from datetime import UTC, datetime

import dagster as dg
import duckdb

from orchestration.defs.automation import full_refresh, segments_only
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.inbox import InboxCursor, archive_files, file_set_key, new_export_files
from orchestration.lib.run_tags import AS_OF_TAG

ENV_ALERT_WEBHOOK = "CLIENTELE_ALERT_WEBHOOK"
FAILURE_LOG = "run_failures.jsonl"


@dg.sensor(
    job=full_refresh,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Launches a full refresh when export files with new content arrive in the inbox (by SHA-256: "
    "a re-dropped or renamed file starts nothing).",
)
def inbox_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    cursor = InboxCursor.parse(context.cursor)
    new, updated = new_export_files(warehouse.inbox, cursor)
    context.update_cursor(updated.dump())
    if not new:
        return dg.SkipReason("no export file with new content")
    as_of = datetime.now(UTC).date().isoformat()
    return dg.RunRequest(run_key=file_set_key(new), tags={AS_OF_TAG: as_of, "clientele/new_files": str(len(new))})


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[full_refresh],
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Moves the exports a successful run loaded to <warehouse>/archive/<date>/ (copied and verified "
    "before the original is removed); the ingest ledger keeps their hashes.",
)
def archive_loaded_exports(context: dg.RunStatusSensorContext, warehouse: WarehouseResource):
    run_id = context.dagster_run.run_id
    paths = warehouse.paths
    if not paths.working_db.exists():
        return dg.SkipReason("no working database")
    with duckdb.connect(str(paths.working_db), read_only=True) as conn:
        rows = conn.execute(
            "select _source_file, _file_hash from raw._ingest_ledger where run_id = ?", [run_id]
        ).fetchall()
    archive_dir = paths.warehouse_dir / "archive" / datetime.now(UTC).date().isoformat()
    archived = archive_files(warehouse.inbox, archive_dir, dict(rows))
    context.log.info(f"archived {len(archived)} export file(s) of run {run_id} to {archive_dir}")


def failure_record(run: dg.DagsterRun, error: str | None) -> dict:
    return {
        "failed_at": datetime.now(UTC).isoformat(),
        "run_id": run.run_id,
        "job": run.job_name,
        "as_of_date": run.tags.get(AS_OF_TAG),
        "error": error,
    }


def notify(record: dict, webhook: str | None) -> None:
    """Post the record to the webhook (Slack-compatible `text` plus the fields), when one is configured."""
    if not webhook:
        return
    body = {"text": f"Clientele run {record['run_id'][:8]} ({record['job']}) failed: {record['error']}", **record}
    request = urllib.request.Request(
        webhook, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


@dg.run_failure_sensor(
    monitored_jobs=[full_refresh, segments_only],
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Appends every failed run to <warehouse>/run_failures.jsonl and posts it to "
    "CLIENTELE_ALERT_WEBHOOK when set.",
)
def record_run_failure(context: dg.RunFailureSensorContext, warehouse: WarehouseResource):
    record = failure_record(context.dagster_run, context.failure_event.message)
    log = warehouse.paths.warehouse_dir / FAILURE_LOG
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
    notify(record, os.environ.get(ENV_ALERT_WEBHOOK))
