"""One benchmark point: the dbt build (models, seeds, data tests) on DuckDB and on Spark local mode, same input.

Ingests a cached demo dataset once (raw tables in DuckDB and Parquet in the lake), then times
`clientele-dbt build --exclude-resource-type unit_test` per target on that warehouse. A report, not a target:

    python -m benchmarks.spark_point --size medium            # ~1M orders
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg

from benchmarks.datasets import END_DATE, SIZES, ensure_dataset
from orchestration.defs.ingest import crm_export_files, raw_assets
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.dbt_project import build_command
from orchestration.lib.settings import WarehousePaths

BENCH_DIR = Path(__file__).resolve().parent


def _build(paths: WarehousePaths, target: str, work: Path) -> dict:
    env = os.environ | {
        "CLIENTELE_WAREHOUSE": str(paths.warehouse_dir),
        "CLIENTELE_DBT_TARGET": target,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    target_path = work / f"target_{target}"
    started = time.perf_counter()
    completed = subprocess.run(
        build_command(target_path, work / f"logs_{target}", END_DATE),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    results = json.loads((target_path / "run_results.json").read_text(encoding="utf-8"))["results"]
    seconds = {"model": 0.0, "test": 0.0, "seed": 0.0}
    for result in results:
        kind = result["unique_id"].split(".")[0]
        if kind in seconds:
            seconds[kind] += result["execution_time"]
    return {
        "target": target,
        "ok": completed.returncode == 0,
        "wall_s": round(wall, 1),
        "node_seconds": {kind: round(value, 1) for kind, value in seconds.items()},
        "nodes": len(results),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="medium")
    parser.add_argument("--cache-dir", type=Path, default=BENCH_DIR / ".cache")
    parser.add_argument("--work-dir", type=Path, default=BENCH_DIR / ".cache" / "spark_point")
    parser.add_argument("--targets", nargs="+", default=["duckdb", "spark"])
    args = parser.parse_args(argv)
    dataset = ensure_dataset(args.cache_dir.resolve(), args.size)
    work = args.work_dir.resolve() / args.size
    paths = WarehousePaths(work / "warehouse")
    if not paths.working_db.exists():
        warehouse = WarehouseResource(
            inbox_dir=str(dataset.path), warehouse_dir=str(paths.warehouse_dir), land_lake=True
        )
        started = time.perf_counter()
        assert dg.materialize([crm_export_files, *raw_assets], resources={"warehouse": warehouse}).success
        print(f"ingest (with the lake's Parquet): {time.perf_counter() - started:.1f} s", flush=True)
    report = {"size": args.size, "orders": dataset.orders, "cores": os.cpu_count(), "builds": []}
    for target in args.targets:
        report["builds"].append(_build(paths, target, work))
        print(json.dumps(report["builds"][-1]), flush=True)
    (work / "spark_point.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0 if all(build["ok"] for build in report["builds"]) else 1


if __name__ == "__main__":
    sys.exit(main())
