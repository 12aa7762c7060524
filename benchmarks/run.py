"""`make bench`: Clientele's pipeline against the floor (hand-written DuckDB SQL) and a plain pandas script.

For each size: generate (once, cached) demo exports; run `clientele run` on a fresh warehouse with a new
DAGSTER_HOME (its databases created and the dbt manifest parsed beforehand, as for any nightly run); time
its stages from the event log; run the floor and the pandas script on the same files and check that their
RFM scores and value tiers agree row for row with the pipeline's marts; time the load floor (every export
copied into DuckDB as detected, nothing else); then add one night of exports (~1% new orders plus refunds,
late and moved orders and changed customers) and re-run against the same warehouse (the nightly case).
Results go to <output>/latest.json and <output>/latest.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import report
from benchmarks.agreement import compare_with_pipeline
from benchmarks.datasets import (
    END_DATE,
    PROFILE,
    SIZES,
    Dataset,
    ensure_dataset,
    link_inbox,
    nightly_day,
    nightly_files,
)
from benchmarks.measure import Measurement, run_measured
from benchmarks.stages import run_stages
from orchestration.lib.settings import DBT_PROJECT_DIR, ENV_WAREHOUSE, PROJECT_ROOT, WarehousePaths, setting

BENCH_DIR = Path(__file__).resolve().parent
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
CLEARED_ENV = ("DAGSTER_HOME", "CLIENTELE_INBOX", "CLIENTELE_WAREHOUSE", "CLIENTELE_AS_OF_DATE")


def say(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", flush=True)


def clientele_command() -> list[str]:
    script = Path(sys.executable).parent / "clientele"
    return [str(script)] if script.exists() else [sys.executable, "-m", "orchestration.cli"]


def pipeline_env(dagster_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}
    env["DAGSTER_HOME"] = str(dagster_home)
    env["PYTHONUNBUFFERED"] = "1"
    return env


# What a nightly run finds in place: the Dagster instance's databases and a current dbt manifest, parsed for
# this warehouse (dbt's profile includes the database path; another path means a full parse, ~7 s).
PREPARE_INSTANCE = (
    "import dagster as dg; "
    "from orchestration.cli import ensure_dagster_home; "
    "from orchestration.lib.dbt_project import prepare_dbt_manifest; "
    "ensure_dagster_home(); prepare_dbt_manifest(force=True); dg.DagsterInstance.get().get_runs(limit=1)"
)


def prepare_instance(dagster_home: Path, warehouse: Path, log: Path) -> None:
    """Create the instance (sqlite schemas) and parse dbt once, outside the measured runs."""
    with log.open("w", encoding="utf-8") as out:
        subprocess.run(
            [sys.executable, "-c", PREPARE_INSTANCE],
            env=pipeline_env(dagster_home) | {ENV_WAREHOUSE: str(warehouse)},
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
        )


def run_pipeline(inbox: Path, warehouse: Path, dagster_home: Path, as_of, log: Path) -> Measurement:
    command = [*clientele_command(), "run", "--inbox", str(inbox), "--warehouse", str(warehouse)]
    command += ["--as-of", as_of.isoformat()]
    return run_measured(command, env=pipeline_env(dagster_home), cwd=PROJECT_ROOT, log_file=log)


def rfm_arguments(dataset: Dataset, out: Path) -> list[str]:
    """Inputs and settings shared by the floor and the pandas script (thresholds from dbt vars)."""
    return [
        "--orders", dataset.glob("orders"),
        "--customers", dataset.glob("customers"),
        "--fx-rates", str(SEEDS_DIR / "fx_rates.csv"),
        "--countries", str(SEEDS_DIR / "countries.csv"),
        "--as-of", END_DATE.isoformat(),
        "--reporting-currency", str(setting("reporting_currency")),
        "--default-currency", str(setting("default_order_currency")),
        "--tier-a-share", str(setting("value_tier_a_revenue_share")),
        "--tier-b-share", str(setting("value_tier_b_revenue_share")),
        "--max-records-per-identifier", str(setting("identity_max_records_per_identifier")),
        "--source-profile", PROFILE,
        "--out", str(out),
    ]  # fmt: skip


def run_module(module: str, arguments: list[str], log: Path) -> Measurement:
    return run_measured([sys.executable, "-m", module, *arguments], cwd=PROJECT_ROOT, log_file=log)


def run_contender(module: str, dataset: Dataset, out: Path, log: Path) -> Measurement:
    return run_module(module, rfm_arguments(dataset, out), log)


def _entry(measurement: Measurement) -> dict:
    return {**measurement.to_dict(), "ok": measurement.ok}


def bench_size(size: str, cache_dir: Path, *, generate: bool, keep: bool, nightly: bool) -> tuple[dict, bool]:
    """Measure one size; returns its results and whether the contenders agreed with the pipeline."""
    dataset = ensure_dataset(cache_dir, size, generate=generate, echo=say)
    runs_dir = cache_dir / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{size}-", dir=runs_dir))
    logs = work / "logs"
    logs.mkdir()
    inbox = link_inbox(dataset.files(), work / "inbox")
    warehouse, dagster_home = work / "warehouse", work / "dagster_home"
    dagster_home.mkdir()
    prepare_instance(dagster_home, warehouse, logs / "prepare.log")
    result: dict = {"customers": dataset.customers, "orders": dataset.orders, "rows": dataset.rows}
    result["work_dir"] = str(work)
    agreed = True
    try:
        say(f"{size}: clientele run on {dataset.orders:,} orders ({dataset.rows:,} rows) ...")
        pipeline = run_pipeline(inbox, warehouse, dagster_home, END_DATE, logs / "pipeline.log")
        result["pipeline"] = _entry(pipeline)
        result["orders_per_second"] = dataset.orders / pipeline.wall_seconds
        result["rows_per_second"] = dataset.rows / pipeline.wall_seconds
        say(f"{size}: pipeline {'ok' if pipeline.ok else 'FAILED'} in {pipeline.wall_seconds:,.1f} s")
        search = [WarehousePaths(warehouse).dbt_target_dir, DBT_PROJECT_DIR / "target"]
        try:
            stages = run_stages(dagster_home, pipeline.started_at, pipeline.wall_seconds, run_results_dirs=search)
            result["stages"] = stages.to_dict()
            say(f"{size}: stages " + ", ".join(f"{k} {v:,.1f} s" for k, v in stages.stages.items()))
        except Exception as error:  # a run without a readable event log still has its total
            result["stages_error"] = repr(error)

        for name, module in (("floor", "benchmarks.floor"), ("pandas", "benchmarks.pandas_rfm")):
            out = work / f"{name}.parquet"
            measurement = run_contender(module, dataset, out, logs / f"{name}.log")
            result[name] = _entry(measurement)
            say(f"{size}: {name} {'ok' if measurement.ok else 'FAILED'} in {measurement.wall_seconds:,.1f} s")
            if measurement.ok and pipeline.ok:
                agreement = compare_with_pipeline(out, WarehousePaths(warehouse).working_db, PROFILE)
                result.setdefault("agreement", {})[name] = agreement.to_dict()
                agreed &= agreement.agrees
                say(f"{size}: {name} {agreement.describe()}")
            else:
                agreed = False

        load_floor = run_module(
            "benchmarks.load_floor",
            ["--inbox", str(dataset.path), "--out", str(work / "load.duckdb")],
            logs / "load_floor.log",
        )
        result["load_floor"] = _entry(load_floor)
        (work / "load.duckdb").unlink(missing_ok=True)
        say(f"{size}: load floor {'ok' if load_floor.ok else 'FAILED'} in {load_floor.wall_seconds:,.1f} s")

        if nightly and pipeline.ok:
            day = nightly_day()
            night = nightly_files(dataset, day)
            link_inbox(night, inbox)
            say(f"{size}: nightly re-run with {', '.join(f.name for f in night)} as of {day} ...")
            rerun = run_pipeline(inbox, warehouse, dagster_home, day, logs / "nightly.log")
            entry: dict = {"pipeline": _entry(rerun), "night_files": [f.name for f in night]}
            # a night that failed its gates published nothing: its time is no measure of a night's cost
            entry["share_of_full_build"] = rerun.wall_seconds / pipeline.wall_seconds if rerun.ok else None
            try:
                rerun_stages = run_stages(dagster_home, rerun.started_at, rerun.wall_seconds, run_results_dirs=search)
                entry["stages"] = rerun_stages.to_dict()
            except Exception as error:
                entry["stages_error"] = repr(error)
            result["nightly"] = entry
            say(f"{size}: nightly {'ok' if rerun.ok else 'FAILED'} in {rerun.wall_seconds:,.1f} s")
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
            result["work_dir"] = None
    return result, agreed


def write_results(results: dict, output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    results["derived"] = report.derive(results["sizes"])
    results["targets"] = report.targets(results["sizes"], results["derived"])
    (output / "latest.json").write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    (output / "latest.md").write_text(report.markdown(results), encoding="utf-8")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma-separated: small,medium,large")
    parser.add_argument("--cache-dir", type=Path, default=BENCH_DIR / ".cache", help="generated exports and runs")
    parser.add_argument("--skip-generate", action="store_true", help="fail instead of generating missing data")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results", help="where latest.json/md go")
    parser.add_argument("--no-nightly", action="store_true", help="skip the 1%% nightly re-run")
    parser.add_argument("--keep-runs", action="store_true", help="keep warehouses and logs for profiling")
    parser.add_argument("--merge", action="store_true", help="keep other sizes' results from latest.json")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        raise SystemExit(f"unknown size(s) {', '.join(unknown)}; expected {', '.join(SIZES)}")
    cache_dir = args.cache_dir.resolve()
    results: dict = {"machine": report.machine_description(), "started_at": datetime.now(UTC).isoformat()}
    results["sizes"] = {}
    previous = args.output / "latest.json"
    if args.merge and previous.exists():
        results["sizes"] = json.loads(previous.read_text(encoding="utf-8")).get("sizes", {})
    all_agreed = True
    for size in sizes:
        result, agreed = bench_size(
            size, cache_dir, generate=not args.skip_generate, keep=args.keep_runs, nightly=not args.no_nightly
        )
        results["sizes"][size] = result
        results["sizes"] = {s: results["sizes"][s] for s in SIZES if s in results["sizes"]}
        results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        write_results(results, args.output)
        all_agreed &= agreed
    say(f"results in {args.output / 'latest.md'}")
    print((args.output / "latest.md").read_text(encoding="utf-8"))
    if not all_agreed:
        say("the floor or the pandas script does not agree with the pipeline (or a run failed): see latest.json")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
