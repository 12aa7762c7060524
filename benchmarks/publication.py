"""What a publication costs fresh, after a night, and when nothing changed (`publish_marts` alone).

On a copy of a warehouse kept by `python -m benchmarks.run --keep-runs` (or any warehouse a run built):
1. fresh: the stored fingerprints are dropped, so everything is written;
2. night: every mart with an as_of_date moves to the next day and `--new-orders` orders are added in that day's
   month (the shape of a nightly export: new orders, customer-grain marts rescored);
3. unchanged: the same publication again.
Prints seconds and what each publication wrote.

    python -m benchmarks.publication --warehouse benchmarks/.cache/runs/medium-XXXX/warehouse
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import duckdb

from orchestration.defs.publish import mart_docs, mart_nodes, pii_columns
from orchestration.lib.publish import PublishRequest, current_publication, publish_marts
from orchestration.lib.publish_masking import pii_salt
from orchestration.lib.settings import WarehousePaths


def _request(paths: WarehousePaths, run_id: str, as_of) -> PublishRequest:
    nodes = mart_nodes()
    return PublishRequest(
        run_id=run_id,
        as_of=as_of,
        marts=[node["name"] for node in nodes],
        pii_columns=pii_columns(nodes),
        mask_identifiers=True,
        salt=pii_salt(paths),
        docs=mart_docs(nodes),
    )


def _next_night(paths: WarehousePaths, day, new_orders: int) -> None:
    with duckdb.connect(str(paths.working_db)) as conn:
        dated = conn.execute(
            "select table_name from duckdb_columns() where schema_name = 'marts' and column_name = 'as_of_date' "
            "and table_name != 'customer_segments_history'"
        ).fetchall()
        for (table,) in dated:
            conn.execute(f"update marts.{table} set as_of_date = ?", [day])
        conn.execute(
            "insert into marts.orders select * replace ('N' || order_key as order_key, 'N' || order_id as order_id, "
            f"?::date as order_date) from marts.orders using sample {int(new_orders)} rows",
            [day],
        )


def _timed(paths: WarehousePaths, request: PublishRequest) -> tuple[float, dict[str, str]]:
    started = time.perf_counter()
    result = publish_marts(paths, request)
    return time.perf_counter() - started, result.written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True, help="a warehouse a run built (copied, not changed)")
    parser.add_argument("--new-orders", type=int, default=10_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.warehouse.parent) as scratch:
        paths = WarehousePaths(Path(scratch) / "warehouse")
        paths.warehouse_dir.mkdir()
        for name in ("clientele.duckdb", ".pii_salt"):
            shutil.copyfile(args.warehouse / name, paths.warehouse_dir / name)
        with duckdb.connect(str(paths.working_db)) as conn:
            conn.execute("drop table if exists audit.publish_fingerprints")
        start = current_publication(paths)
        day = (start.as_of if start else duckdb.sql("select current_date").fetchone()[0]) + timedelta(days=1)
        rows = []
        for label, change in (("fresh", False), ("night", True), ("unchanged", False)):
            if change:
                day += timedelta(days=1)
                _next_night(paths, day, args.new_orders)
            seconds, written = _timed(paths, _request(paths, f"bench-{label}", day))
            unchanged = sum(state == "unchanged" for state in written.values())
            rows.append(f"| {label} | {seconds:.1f} s | {unchanged} of {len(written)} | {written.get('orders', '')} |")
    print("| publication | time | marts unchanged | orders |\n|---|---:|---:|---|\n" + "\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
