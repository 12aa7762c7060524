"""Where a `clientele run` spent its time: Dagster's event log per step, dbt's run_results.json per node.

Stages: startup (process start to the run's start: imports, dbt manifest, definitions, run creation),
ingest (crm_export_files and raw_* steps), checks (quality-check steps plus dbt tests inside the dbt step),
dbt (the dbt step minus its tests and CLV models: seeds, SQL models, dbt start and parse, event handling),
clv (dbt Python models, or a separate CLV step), publish (publishing steps), other (remaining steps,
gaps between steps, run teardown). dbt runs nodes on several threads, so node time is attributed as wall
time: while n nodes run at once each gets 1/n of the elapsed time.
"""

from __future__ import annotations

import itertools
import json
import os
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from orchestration.lib.settings import DBT_PROJECT_DIR

STAGES = ("startup", "ingest", "checks", "dbt", "clv", "publish", "other")
STEP_END_EVENTS = ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED")
RUN_START_EVENTS = ("PIPELINE_START", "RUN_START")
RUN_END_EVENTS = ("PIPELINE_SUCCESS", "PIPELINE_FAILURE", "RUN_SUCCESS", "RUN_FAILURE", "PIPELINE_CANCELED")


@dataclass
class StepTiming:
    step_key: str
    stage: str
    seconds: float
    materialized: int
    check_evaluations: int


@dataclass
class DbtNodeTiming:
    unique_id: str
    kind: str  # seed | model | python_model | test | unit_test | other
    seconds: float  # dbt's own execution time of the node
    wall_share: float  # wall time attributed to the node (shared with concurrently running nodes)
    status: str


@dataclass
class RunStages:
    run_id: str
    status: str
    stages: dict[str, float]
    steps: list[StepTiming] = field(default_factory=list)
    startup: dict[str, float] = field(default_factory=dict)  # before the run exists / creating it
    dbt: dict[str, float] = field(default_factory=dict)  # breakdown of the dbt step
    slowest_dbt_nodes: list[DbtNodeTiming] = field(default_factory=list)
    run_results: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def classify_step(step_key: str, materialized: set[str], check_evaluations: int) -> str:
    """Stage of one Dagster step, from its key and the assets it materialized."""
    name = step_key.lower()
    if "crm_export_files" in materialized or any(key.startswith("raw_") for key in materialized):
        return "ingest"
    if "publish" in name or any("publish" in key for key in materialized):
        return "publish"
    if "clv" in name:
        return "clv"
    if "dbt" in name or any("/" in key for key in materialized):
        return "dbt"
    if (not materialized and check_evaluations) or any(w in name for w in ("check", "quality", "expect", "gx")):
        return "checks"
    return "other"


def _parse_time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def python_model_names(project_dir: Path = DBT_PROJECT_DIR) -> set[str]:
    return {path.stem for path in (project_dir / "models").rglob("*.py")}


def node_kind(unique_id: str, python_models: set[str]) -> str:
    resource_type, *_, name = unique_id.split(".")
    if resource_type == "model":
        return "python_model" if name in python_models else "model"
    return resource_type if resource_type in ("seed", "test", "unit_test") else "other"


def attribute_wall_time(intervals: dict[str, tuple[float, float]]) -> dict[str, float]:
    """Split elapsed time among overlapping intervals: n intervals open at once share each second n ways."""
    points = sorted({t for interval in intervals.values() for t in interval})
    shares = dict.fromkeys(intervals, 0.0)
    for low, high in itertools.pairwise(points):
        running = [key for key, (start, end) in intervals.items() if start <= low and end >= high]
        for key in running:
            shares[key] += (high - low) / len(running)
    return shares


def dbt_node_timings(run_results: Path, python_models: set[str]) -> list[DbtNodeTiming]:
    document = json.loads(run_results.read_text(encoding="utf-8"))
    intervals, results = {}, {}
    for result in document.get("results", []):
        timing = [t for t in result.get("timing", []) if t.get("started_at") and t.get("completed_at")]
        if not timing:
            continue
        start = min(_parse_time(t["started_at"]) for t in timing)
        end = max(_parse_time(t["completed_at"]) for t in timing)
        intervals[result["unique_id"]] = (start, end)
        results[result["unique_id"]] = result
    shares = attribute_wall_time(intervals)
    return [
        DbtNodeTiming(
            unique_id=uid,
            kind=node_kind(uid, python_models),
            seconds=float(results[uid].get("execution_time") or 0.0),
            wall_share=shares[uid],
            status=str(results[uid].get("status")),
        )
        for uid in intervals
    ]


def find_run_results(run_id: str, search_dirs: list[Path], not_before: float) -> Path | None:
    """run_results.json of the dbt invocation of `run_id`: in a target dir named after the run (dagster-dbt's
    default), else the newest one written since `not_before` in the first search dir that has one."""
    short = run_id[:7]
    found = [path for d in search_dirs if d.exists() for path in d.rglob("run_results.json")]
    named = [path for path in found if f"-{short}-" in path.parent.name]
    if named:
        return max(named, key=lambda p: p.stat().st_mtime)
    for directory in search_dirs:
        recent = [p for p in found if p.is_relative_to(directory) and p.stat().st_mtime >= not_before]
        if recent:
            return max(recent, key=lambda p: p.stat().st_mtime)
    return None


def run_stages(
    dagster_home: Path,
    process_started_at: float,
    total_seconds: float,
    *,
    run_results_dirs: list[Path],
    run_id: str | None = None,
) -> RunStages:
    """Stage times of `run_id` (default: the latest run) recorded in the instance at `dagster_home`."""
    import dagster as dg

    previous_home = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(dagster_home)  # the instance settings locate the event log with it
    try:
        with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
            run = instance.get_run_by_id(run_id) if run_id else instance.get_runs(limit=1)[0]
            records = instance.all_logs(run.run_id)
            status = str(run.status.value)
    finally:
        if previous_home is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = previous_home

    starts, ends = {}, {}
    materialized: dict[str, set[str]] = defaultdict(set)
    checks: dict[str, int] = defaultdict(int)
    run_start = run_end = None
    first_event = min((record.timestamp for record in records), default=None)
    for record in records:
        event = record.dagster_event
        if event is None:
            continue
        kind = event.event_type_value
        if kind in RUN_START_EVENTS:
            run_start = record.timestamp
        elif kind in RUN_END_EVENTS:
            run_end = record.timestamp
        elif kind == "STEP_START":
            starts[record.step_key] = record.timestamp
        elif kind in STEP_END_EVENTS:
            ends[record.step_key] = record.timestamp
        elif kind == "ASSET_MATERIALIZATION" and record.step_key:
            materialized[record.step_key].add(event.asset_key.to_user_string())
        elif kind == "ASSET_CHECK_EVALUATION" and record.step_key:
            checks[record.step_key] += 1

    stages = dict.fromkeys(STAGES, 0.0)
    steps = []
    for step_key, started in sorted(starts.items(), key=lambda item: item[1]):
        seconds = ends.get(step_key, started) - started
        stage = classify_step(step_key, materialized[step_key], checks[step_key])
        steps.append(StepTiming(step_key, stage, seconds, len(materialized[step_key]), checks[step_key]))
        stages[stage] += seconds

    breakdown: dict[str, float] = {}
    slowest: list[DbtNodeTiming] = []
    results_path = find_run_results(run.run_id, run_results_dirs, process_started_at)
    dbt_step_seconds = sum(s.seconds for s in steps if s.stage == "dbt")
    if results_path is not None and dbt_step_seconds:
        nodes = dbt_node_timings(results_path, python_model_names())
        by_kind: dict[str, float] = defaultdict(float)
        for node in nodes:
            by_kind[node.kind] += node.wall_share
        tests = by_kind["test"] + by_kind["unit_test"]
        clv = by_kind["python_model"]
        breakdown = {
            "step": dbt_step_seconds,
            "seeds": by_kind["seed"],
            "sql_models": by_kind["model"],
            "python_models": clv,
            "tests": tests,
            "outside_nodes": dbt_step_seconds - sum(by_kind.values()),
        }
        stages["dbt"] -= tests + clv
        stages["checks"] += tests
        stages["clv"] += clv
        slowest = sorted(nodes, key=lambda n: n.wall_share, reverse=True)[:15]

    stages["startup"] = (run_start - process_started_at) if run_start else 0.0
    startup = {}
    if run_start and first_event:
        startup = {"before_run": first_event - process_started_at, "run_creation": run_start - first_event}
    stages["other"] += total_seconds - stages["startup"] - sum(s.seconds for s in steps)
    if run_end is not None:
        breakdown["run_teardown"] = process_started_at + total_seconds - run_end
    return RunStages(
        run_id=run.run_id,
        status=status,
        stages=stages,
        steps=steps,
        startup=startup,
        dbt=breakdown,
        slowest_dbt_nodes=slowest,
        run_results=str(results_path) if results_path else None,
    )
