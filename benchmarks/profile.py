"""Profile a kept benchmark warehouse: dbt's slowest nodes and DuckDB's operator timings of the slowest models.

    python -m benchmarks.run --sizes medium --keep-runs     # keeps benchmarks/.cache/runs/medium-*/
    python -m benchmarks.profile benchmarks/.cache/runs/medium-xxxx/warehouse --top 5

Re-runs each model's compiled SQL with DuckDB's JSON profiler (as CREATE TEMP TABLE, like dbt's table
materialization) on a read-only connection and prints the operators that took the most time.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import duckdb

from benchmarks.stages import node_kind, python_model_names
from orchestration.lib.settings import WarehousePaths


def slowest_nodes(run_results: Path, top: int) -> list[dict]:
    results = json.loads(run_results.read_text(encoding="utf-8"))["results"]
    return sorted(results, key=lambda r: r.get("execution_time") or 0, reverse=True)[:top]


def _operators(node: dict, depth: int = 0) -> list[tuple[float, int, str, int]]:
    """(seconds, rows, operator, depth) for a profiler tree node and its children."""
    name = str(node.get("type") or node.get("operator_type") or node.get("operator_name") or "")
    rows = int(node.get("intermediate_rows") or node.get("operator_cardinality") or 0)
    seconds = float(node.get("timing") or node.get("operator_timing") or 0.0)
    found = [(seconds, rows, name.strip(), depth)] if name and seconds else []
    for child in [*node.get("children", []), *node.get("operator", [])]:
        found.extend(_operators(child, depth + 1))
    return found


def profile_sql(conn: duckdb.DuckDBPyConnection, sql: str) -> tuple[float, list]:
    """Run `sql` as a temp table build with the profiler on: (seconds, operators by time)."""
    conn.execute("SET enable_profiling = 'no_output'")
    try:
        start = time.perf_counter()
        conn.execute(f"CREATE OR REPLACE TEMP TABLE _profiled AS {sql}")
        total = time.perf_counter() - start
        tree = json.loads(conn.get_profiling_information(format="json"))
    finally:
        conn.execute("RESET enable_profiling")
    conn.execute("DROP TABLE IF EXISTS _profiled")
    return total, sorted(_operators(tree), reverse=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path, help="warehouse directory of a kept benchmark run")
    parser.add_argument("--top", type=int, default=5, help="how many of the slowest SQL models to profile")
    parser.add_argument("--operators", type=int, default=6, help="operators listed per model")
    args = parser.parse_args(argv)
    paths = WarehousePaths(args.warehouse.resolve())
    run_results = paths.dbt_target_dir / "run_results.json"
    python_models = python_model_names()

    print(f"dbt nodes by execution time ({run_results}):")
    for result in slowest_nodes(run_results, 15):
        kind = node_kind(result["unique_id"], python_models)
        print(f"  {result['execution_time']:8.2f} s  {kind:<12} {result['unique_id']}")

    models = [
        r
        for r in slowest_nodes(run_results, 10_000)
        if node_kind(r["unique_id"], python_models) == "model" and r.get("compiled_code")
    ][: args.top]
    with duckdb.connect(str(paths.working_db), read_only=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        for result in models:
            total, operators = profile_sql(conn, result["compiled_code"])
            print(f"\n{result['unique_id']}: dbt {result['execution_time']:.2f} s, re-run {total:.2f} s")
            for seconds, rows, name, depth in operators[: args.operators]:
                print(f"  {seconds:8.2f} s  {rows:>12,} rows  {'  ' * min(depth, 8)}{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
