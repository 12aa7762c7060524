"""Sensors: new exports in the inbox start a run; loaded exports are archived; failed runs are recorded.

Run failures (`record_run_failure`, any job of this code location): one JSON line per failed run is appended to
<warehouse>/run_failures.jsonl (run id, job, as-of date, failed steps with their errors, failed checks with
severity, failure time). That file is always written. Notifiers plug in at `notify(record)`, off by default and
configured by environment:

- CLIENTELE_ALERT_WEBHOOK: a URL receiving the record as a JSON POST (a Slack incoming webhook shows `text`).
- CLIENTELE_ALERT_EMAIL: comma-separated recipients; sent through CLIENTELE_SMTP_HOST[:port] (default
  localhost:25) from CLIENTELE_ALERT_FROM (default clientele@localhost).

A notifier that fails is logged and does not lose the record. The sensors only tick while the Dagster daemon
runs (`clientele ui` starts one); the failure sensor is on by default, the inbox and archive sensors are
switched on in the UI (Automation).
"""

import json
import os
import smtplib
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage

import dagster as dg
import duckdb
from dagster._utils.error import SerializableErrorInfo

from orchestration.defs.automation import full_refresh, scheduled_today
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.inbox import InboxCursor, archive_files, file_set_key, loaded_hashes, new_export_files
from orchestration.lib.ingest.errors import IngestError
from orchestration.lib.run_tags import AS_OF_TAG

ENV_ALERT_WEBHOOK = "CLIENTELE_ALERT_WEBHOOK"
ENV_ALERT_EMAIL = "CLIENTELE_ALERT_EMAIL"
ENV_ALERT_FROM = "CLIENTELE_ALERT_FROM"
ENV_SMTP_HOST = "CLIENTELE_SMTP_HOST"
FAILURE_LOG = "run_failures.jsonl"
ARCHIVE_DIR = "archive"
NEW_FILES_TAG = "clientele/new_files"
MAX_ERROR_CHARS = 2000


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
    as_of = scheduled_today().isoformat()
    return dg.RunRequest(run_key=file_set_key(new), tags={AS_OF_TAG: as_of, NEW_FILES_TAG: str(len(new))})


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
            "select _source_file, _file_hash from raw._ingest_ledger where run_id = ?", [run_id]
        ).fetchall()
    archive_dir = paths.warehouse_dir / ARCHIVE_DIR / _run_finished_at(context.instance, run_id).date().isoformat()
    archived = archive_files(warehouse.inbox, archive_dir, dict(loaded))
    context.log.info(f"archived {len(archived)} of {len(loaded)} export file(s) of run {run_id} to {archive_dir}")


def _root_cause(error: SerializableErrorInfo | None) -> str | None:
    """The user's error under Dagster's wrappers ("Error occurred while executing op ...")."""
    if error is None:
        return None
    while error.cause is not None:
        error = error.cause
    return error.message.strip()[:MAX_ERROR_CHARS]


def failure_record(instance: dg.DagsterInstance, run: dg.DagsterRun, error: str | None) -> dict:
    """What failed in a run: its failed steps (with their errors) and checks that did not pass."""
    steps, checks = [], []
    kinds = {dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.ASSET_CHECK_EVALUATION}
    for entry in instance.all_logs(run.run_id, of_type=kinds):
        event = entry.dagster_event
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            steps.append({"step": event.step_key, "error": _root_cause(event.step_failure_data.error)})
            continue
        evaluation = event.asset_check_evaluation_data
        if evaluation.passed:
            continue
        details = {k: v.value for k, v in evaluation.metadata.items() if k in ("unexpected_count", "failures")}
        checks.append(
            {
                "asset": evaluation.asset_key.to_user_string(),
                "check": evaluation.check_name,
                "severity": evaluation.severity.value,
                "blocking": bool(evaluation.blocking),
                **details,
            }
        )
    return {
        "failed_at": _run_finished_at(instance, run.run_id).isoformat(),
        "run_id": run.run_id,
        "job": run.job_name,
        "as_of_date": run.tags.get(AS_OF_TAG),
        "error": error[:MAX_ERROR_CHARS] if error else None,
        "failed_steps": steps,
        "failed_checks": checks,
    }


def _summary(record: dict) -> str:
    parts = [f"Clientele run {record['run_id'][:8]} ({record['job']}, as of {record['as_of_date']}) failed"]
    if record["failed_steps"]:
        parts.append("steps: " + ", ".join(step["step"] for step in record["failed_steps"]))
    blocking = [f"{check['asset']} / {check['check']}" for check in record["failed_checks"] if check["blocking"]]
    if blocking:
        parts.append("blocking checks: " + ", ".join(blocking))
    return "; ".join(parts)


def notify(record: dict, environ: Mapping[str, str] = os.environ) -> list[str]:
    """Send the record to every notifier configured in the environment; returns the channels used."""
    sent = []
    if webhook := environ.get(ENV_ALERT_WEBHOOK):
        body = json.dumps({"text": _summary(record), **record}).encode()
        request = urllib.request.Request(
            webhook, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10):
            sent.append("webhook")
    if recipients := environ.get(ENV_ALERT_EMAIL):
        message = EmailMessage()
        message["Subject"] = _summary(record)[:200]
        message["From"] = environ.get(ENV_ALERT_FROM, "clientele@localhost")
        message["To"] = recipients
        message.set_content(json.dumps(record, indent=2))
        host, _, port = environ.get(ENV_SMTP_HOST, "localhost").partition(":")
        with smtplib.SMTP(host, int(port or 25), timeout=10) as smtp:
            smtp.send_message(message)
        sent.append("email")
    return sent


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Appends every failed run (failed steps and checks) to <warehouse>/run_failures.jsonl; posts it "
    "to CLIENTELE_ALERT_WEBHOOK and/or mails CLIENTELE_ALERT_EMAIL when set (off by default).",
)
def record_run_failure(context: dg.RunFailureSensorContext, warehouse: WarehouseResource):
    record = failure_record(context.instance, context.dagster_run, context.failure_event.message)
    log = warehouse.paths.warehouse_dir / FAILURE_LOG
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
    context.log.info(f"recorded the failure of run {record['run_id']} in {log}")
    try:
        sent = notify(record)
    except (OSError, smtplib.SMTPException) as error:
        context.log.warning(f"failure notification not sent: {error}")
    else:
        if sent:
            context.log.info(f"failure notification sent by {', '.join(sent)}")
