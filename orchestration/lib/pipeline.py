"""Run the Dagster job in-process against the persistent instance and summarise what happened."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from orchestration.defs.loggers import CONSOLE_LOGGER
from orchestration.lib.run_tags import AS_OF_TAG
from orchestration.lib.runs.failures import record_failure_once
from orchestration.lib.settings import WarehousePaths

PUBLISHED_ASSET = "published_marts"


@dataclass
class EntityLoad:
    entity: str
    files: int
    rows_loaded: int
    rows_quarantined: int


@dataclass
class PipelineOutcome:
    success: bool
    run_id: str
    as_of: date
    paths: WarehousePaths
    inbox: Path
    step_failures: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    warned_checks: list[str] = field(default_factory=list)
    loads: list[EntityLoad] = field(default_factory=list)
    held_files: list[str] = field(default_factory=list)
    published: bool = False
    log_file: Path | None = None

    def _publication(self) -> str:
        if self.published:
            return "replaced by this run"
        if self.success:
            return "kept: the current publication is as of a later date (a publication only moves forward)"
        kept = "NOT replaced: BI keeps reading the last good publication"
        return kept + ("" if self.paths.published_db.exists() else " (none yet)")

    def summary(self) -> str:
        lines = [
            "",
            f"Clientele run {self.run_id[:8]} as of {self.as_of}: {'SUCCESS' if self.success else 'FAILED'}",
        ]
        if self.loads:
            lines.append(f"  {'entity':<14}{'files':>6}{'loaded':>14}{'quarantined':>14}")
            for load in self.loads:
                lines.append(f"  {load.entity:<14}{load.files:>6}{load.rows_loaded:>14,}{load.rows_quarantined:>14,}")
        else:
            lines.append("  no new export files loaded (files already in the ledger are skipped)")
        if self.warned_checks:
            lines.append(f"  {len(self.warned_checks)} check(s) warned:")
            lines.extend(f"    - {c}" for c in self.warned_checks)
        if self.failed_checks:
            lines.append(f"  {len(self.failed_checks)} blocking check(s) failed:")
            lines.extend(f"    - {c}" for c in self.failed_checks)
        if self.held_files:
            lines.append(f"  {len(self.held_files)} file(s) held (their rows stay out of staging and every run fails):")
            lines.extend(f"    - {f}" for f in self.held_files)
            lines.append(
                "    next: drop a corrected export into the inbox (a newer version of the same records, or the "
                'same file name), or `clientele files release|unload <file id> --reason "..."`'
            )
        if self.step_failures:
            lines.append("  failed steps:")
            lines.extend(f"    - {f.splitlines()[0]}" for f in self.step_failures)
        if not self.success and self.log_file is not None:
            lines.append(f"  full log (stack traces included): {self.log_file}")
        lines += [
            f"  inbox:              {self.inbox}",
            f"  working database:   {self.paths.working_db}",
            f"  quarantine:         {self.paths.warehouse_dir / 'audit' / 'quarantine.parquet'}   (masked; also "
            "audit.quarantine in the published database)",
            f"  published for BI:   {self.paths.published_db}",
            f"  published Parquet:  {self.paths.parquet_dir}",
            "  publication:        " + self._publication(),
            f"  Dagster UI:         make ui  ->  http://127.0.0.1:3000  (run {self.run_id})",
        ]
        return "\n".join(lines)


def _held_files(database: Path) -> list[str]:
    from orchestration.lib.ingest import ledger

    if not database.exists():
        return []
    with duckdb.connect(str(database), read_only=True) as conn:
        held = ledger.entries(conn, [ledger.HELD])
    return [f"{e.source_file} (file id {e.file_id}): failed {', '.join(e.failed_checks)}" for e in held]


def _loads_for_run(database: Path, run_id: str) -> list[EntityLoad]:
    if not database.exists():
        return []
    conn = duckdb.connect(str(database), read_only=True)
    try:
        tables = conn.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = 'raw' AND table_name = '_ingest_ledger'"
        ).fetchall()
        if not tables:
            return []
        rows = conn.execute(
            """
            SELECT entity, count(*), sum(rows_loaded), sum(rows_quarantined)
            FROM raw._ingest_ledger WHERE run_id = ? GROUP BY entity ORDER BY entity
            """,
            [run_id],
        ).fetchall()
    finally:
        conn.close()
    return [EntityLoad(*row) for row in rows]


def run_pipeline(
    *,
    inbox: Path,
    warehouse: Path,
    as_of: date,
    job_name: str = "full_refresh",
    echo: Callable[[str], None] = print,
    log_level: str = "INFO",
) -> PipelineOutcome:
    """Materialize `job_name` in this process as a first-class run of the code location (on the UI's timeline,
    seen by the failure sensor); a failure is recorded in <warehouse>/run_failures.jsonl right away."""
    import dagster as dg

    from orchestration.lib.dbt_project import prepare_dbt_manifest
    from orchestration.lib.runs.cancel import interrupt_when_canceled
    from orchestration.lib.runs.liveness import clean_up_dead_runs, initialise_warehouse_pool, wait_for_warehouse
    from orchestration.lib.runs.origin import create_run, execute, reconstructable_job

    echo("Preparing the dbt manifest (cached between runs) ...")
    prepare_dbt_manifest()
    instance = dg.DagsterInstance.get()
    initialise_warehouse_pool(instance)
    for dead in clean_up_dead_runs(instance, echo):
        record_failure_once(instance, dead, "the process running it died", warehouse, log=echo)
    wait_for_warehouse(instance, echo)
    recon_job = reconstructable_job(job_name)
    run_id = str(uuid.uuid4())
    log_file = WarehousePaths(warehouse).logs_dir / f"run-{run_id}.log"
    logger_config = {"log_level": log_level, "log_file": str(log_file)}
    run = create_run(
        instance,
        recon_job,
        tags={AS_OF_TAG: as_of.isoformat()},
        run_config={
            "loggers": {CONSOLE_LOGGER: {"config": logger_config}},
            "resources": {"warehouse": {"config": {"inbox_dir": str(inbox), "warehouse_dir": str(warehouse)}}},
        },
        run_id=run_id,
    )
    echo(f"Running job {job_name} as of {as_of} (run {run.run_id[:8]}; inbox {inbox}, warehouse {warehouse}) ...")
    with interrupt_when_canceled(instance, run.run_id):
        result = execute(instance, recon_job, run)
    if not result.success:
        failure = result.get_run_failure_event()
        record_failure_once(
            instance, instance.get_run_by_id(run.run_id), failure.message if failure else None, warehouse, log=echo
        )
    outcome = PipelineOutcome(
        success=result.success,
        run_id=result.run_id,
        log_file=log_file,
        as_of=as_of,
        paths=WarehousePaths(warehouse),
        inbox=inbox,
    )
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error = event.step_failure_data.error
            message = error.message.strip() if error else "unknown error"
            outcome.step_failures.append(f"{event.step_key}: {message}")
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.passed:
            continue
        label = f"{evaluation.asset_key.to_user_string()} / {evaluation.check_name}"
        details = {k: v.value for k, v in evaluation.metadata.items() if k in ("unexpected_count", "failures")}
        if details:
            label += " (" + ", ".join(f"{k}={v}" for k, v in details.items()) + ")"
        sample = evaluation.metadata.get("unexpected_sample")
        if sample is not None and sample.value:
            label += "; e.g. " + "; ".join(str(v) for v in list(sample.value)[:3])
        blocking = evaluation.blocking and str(evaluation.severity) in ("AssetCheckSeverity.ERROR", "ERROR")
        (outcome.failed_checks if blocking else outcome.warned_checks).append(label)
    outcome.published = any(
        event.event_type_value == "ASSET_MATERIALIZATION"
        and event.asset_key is not None
        and event.asset_key.to_user_string() == PUBLISHED_ASSET
        for event in result.all_events
    )
    outcome.loads = _loads_for_run(outcome.paths.working_db, result.run_id)
    outcome.held_files = _held_files(outcome.paths.working_db)
    return outcome
