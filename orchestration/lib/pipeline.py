"""Run the Dagster job in-process against the persistent instance and summarise what happened."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from orchestration.defs.loggers import CONSOLE_LOGGER
from orchestration.lib.as_of import as_of_of_run
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
    as_of: date | None
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
        if self.as_of is None:
            return "not part of this run (ingest only)"
        if self.published:
            return "replaced by this run"
        if self.success:
            return "kept: the current publication is as of a later date (a publication only moves forward)"
        kept = "NOT replaced: BI keeps reading the last good publication"
        return kept + ("" if self.paths.published_db.exists() else " (none yet)")

    def summary(self) -> str:
        lines = [
            "",
            f"Clientele run {self.run_id[:8]}"
            + (f" as of {self.as_of}" if self.as_of else " (ingest)")
            + f": {'SUCCESS' if self.success else 'FAILED'}",
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


def _prepared_instance(warehouse: Path, echo: Callable[[str], None]):
    """The Dagster instance, ready for a run: dbt parsed, the warehouse pool initialised, runs of dead processes
    marked failed (and recorded), no other run using the warehouse."""
    import dagster as dg

    from orchestration.lib.dbt_project import prepare_dbt_manifest
    from orchestration.lib.runs.liveness import clean_up_dead_runs, initialise_warehouse_pool, wait_for_warehouse

    echo("Preparing the dbt manifest (cached between runs) ...")
    prepare_dbt_manifest()
    instance = dg.DagsterInstance.get()
    initialise_warehouse_pool(instance)
    for dead in clean_up_dead_runs(instance, echo):
        record_failure_once(instance, dead, "the process running it died", warehouse, log=echo)
    wait_for_warehouse(instance, echo)
    return instance


def _run_config(inbox: Path, warehouse: Path, log_level: str) -> dict:
    """Where the inbox and the warehouse are (the warehouse resource), and the console logger; the full log of
    each run goes to <warehouse>/logs/run-<run id>.log (the logger names the file by the run's id)."""
    return {
        "loggers": {
            CONSOLE_LOGGER: {"config": {"log_level": log_level, "logs_dir": str(WarehousePaths(warehouse).logs_dir)}}
        },
        "resources": {"warehouse": {"config": {"inbox_dir": str(inbox), "warehouse_dir": str(warehouse)}}},
    }


def _execute(instance, recon_job, run, *, inbox: Path, warehouse: Path, echo: Callable[[str], None]) -> PipelineOutcome:
    from orchestration.lib.runs.cancel import interrupt_when_canceled
    from orchestration.lib.runs.origin import execute

    as_of = as_of_of_run(run)
    echo(f"Running job {run.job_name}{f' as of {as_of}' if as_of else ''} (run {run.run_id[:8]}) ...")
    with interrupt_when_canceled(instance, run.run_id):
        result = execute(instance, recon_job, run)
    if not result.success:
        failure = result.get_run_failure_event()
        record_failure_once(
            instance, instance.get_run_by_id(run.run_id), failure.message if failure else None, warehouse, log=echo
        )
    return _outcome(result, as_of, inbox=inbox, warehouse=warehouse)


def run_pipeline(
    *,
    inbox: Path,
    warehouse: Path,
    as_of: date | None,
    job_name: str = "full_refresh",
    echo: Callable[[str], None] = print,
    log_level: str = "INFO",
) -> PipelineOutcome:
    """Execute `job_name` for the as-of date's partition (no date: the `ingest` job) in this process, as a
    first-class run of the code location (on the UI's timeline, seen by the failure sensor); a failure is
    recorded in <warehouse>/run_failures.jsonl right away."""
    from orchestration.lib.runs.origin import create_run, reconstructable_job

    instance = _prepared_instance(warehouse, echo)
    recon_job = reconstructable_job(job_name)
    job_def = recon_job.get_definition()
    tags = job_def.get_tags_for_partition_key(as_of.isoformat(), selected_asset_keys=None) if as_of else {}
    run = create_run(instance, recon_job, tags=tags, run_config=_run_config(inbox, warehouse, log_level))
    return _execute(instance, recon_job, run, inbox=inbox, warehouse=warehouse, echo=echo)


def run_dates(
    *,
    inbox: Path,
    warehouse: Path,
    dates: list[date],
    job_name: str = "full_refresh",
    echo: Callable[[str], None] = print,
    log_level: str = "INFO",
) -> list[PipelineOutcome]:
    """Several as-of dates in order, as one Dagster backfill. A `full_refresh` loads and judges the inbox once
    (the `ingest` job) and then rebuilds every date from it (`segments_only`); stops at the first failure."""
    from orchestration.lib.runs.backfill import BACKFILL_TAG, run_backfill, stop_backfill
    from orchestration.lib.runs.origin import reconstructable_job

    outcomes: list[PipelineOutcome] = []
    if job_name == "full_refresh":
        loaded = run_pipeline(inbox=inbox, warehouse=warehouse, as_of=None, job_name="ingest", echo=echo)
        echo(loaded.summary())
        outcomes.append(loaded)
        if not loaded.success:
            return outcomes
        job_name = "segments_only"
    instance = _prepared_instance(warehouse, echo)
    recon_job = reconstructable_job(job_name)

    def execute_date(run) -> PipelineOutcome:
        outcome = _execute(instance, recon_job, run, inbox=inbox, warehouse=warehouse, echo=echo)
        echo(outcome.summary())
        if not outcome.success:  # later dates would be built on top of a failed one
            stop_backfill(instance, run.tags[BACKFILL_TAG])
        return outcome

    _, results = run_backfill(
        instance,
        recon_job,
        [d.isoformat() for d in dates],
        run_config=_run_config(inbox, warehouse, log_level),
        execute=execute_date,
        echo=echo,
    )
    return [*outcomes, *results]


def _outcome(result, as_of: date | None, *, inbox: Path, warehouse: Path) -> PipelineOutcome:
    outcome = PipelineOutcome(
        success=result.success,
        run_id=result.run_id,
        log_file=WarehousePaths(warehouse).logs_dir / f"run-{result.run_id}.log",
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
