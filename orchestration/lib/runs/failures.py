"""Every failed run recorded once, by whoever sees it first: the CLI right after its run, or the failure sensor.

A record is one JSON line in `<warehouse>/run_failures.jsonl` (run id, job, as-of date, failed steps with their
errors, failed checks with severity and samples, failure time). Notifiers plug in at `notify(record)`, off by
default and configured by environment:

- CLIENTELE_ALERT_WEBHOOK: a URL receiving the record as a JSON POST (a Slack incoming webhook shows `text`).
- CLIENTELE_ALERT_EMAIL: comma-separated recipients; sent through CLIENTELE_SMTP_HOST[:port] (default
  localhost:25) from CLIENTELE_ALERT_FROM (default clientele@localhost).

A notifier that fails is logged and does not lose the record.
"""

from __future__ import annotations

import fcntl
import json
import os
import smtplib
import urllib.request
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import dagster as dg
from dagster._utils.error import SerializableErrorInfo

from orchestration.lib.as_of import PARTITION_TAG

ENV_ALERT_WEBHOOK = "CLIENTELE_ALERT_WEBHOOK"
ENV_ALERT_EMAIL = "CLIENTELE_ALERT_EMAIL"
ENV_ALERT_FROM = "CLIENTELE_ALERT_FROM"
ENV_SMTP_HOST = "CLIENTELE_SMTP_HOST"
FAILURE_LOG = "run_failures.jsonl"
MAX_ERROR_CHARS = 2000


def _run_finished_at(instance: dg.DagsterInstance, run_id: str) -> datetime:
    record = instance.get_run_record_by_id(run_id)
    if record is not None and record.end_time is not None:
        return datetime.fromtimestamp(record.end_time, UTC)
    return datetime.now(UTC)


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
        "as_of_date": run.tags.get(PARTITION_TAG),
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


def _already_recorded(log: Path, run_id: str) -> bool:
    if not log.exists():
        return False
    with open(log, encoding="utf-8") as handle:
        return any(json.loads(line).get("run_id") == run_id for line in handle if line.strip())


def record_failure_once(
    instance: dg.DagsterInstance,
    run: dg.DagsterRun,
    error: str | None,
    warehouse_dir: Path,
    log: Callable[[str], None] = print,
) -> dict | None:
    """Append the run's failure record unless it is there already, then notify; returns the new record."""
    failure_log = Path(warehouse_dir) / FAILURE_LOG
    failure_log.parent.mkdir(parents=True, exist_ok=True)
    with open(failure_log.with_name(f".{FAILURE_LOG}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the CLI and the daemon's sensor may see the same failure
        if _already_recorded(failure_log, run.run_id):
            return None
        record = failure_record(instance, run, error)
        with open(failure_log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
    log(f"recorded the failure of run {run.run_id} in {failure_log}")
    try:
        sent = notify(record)
    except (OSError, smtplib.SMTPException) as exc:
        log(f"failure notification not sent: {exc}")
    else:
        if sent:
            log(f"failure notification sent by {', '.join(sent)}")
    return record
