"""Backfill and history: `clientele run --as-of A --to B` is a Dagster backfill of the date partitions (listed
with its status, each date's partition materialized), builds one history slice per date, re-running a date
replaces its slice, and segment_migration agrees with the history."""

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from clientele_demo import generate_demo_exports

END = date(2026, 6, 30)


def _clientele(*args: str, env: dict) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "orchestration.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("history")
    inbox, warehouse = root / "inbox", root / "warehouse"
    generate_demo_exports(inbox, 150, seed=3, profile="generic", end_date=END)
    env = os.environ | {"DAGSTER_HOME": str(root / "dagster_home")}
    common = ("--inbox", str(inbox), "--warehouse", str(warehouse))
    backfill = _clientele("run", *common, "--as-of", "2026-06-16", "--to", "2026-06-30", "--every", "14", env=env)
    assert backfill.returncode == 0, backfill.stdout[-3000:] + backfill.stderr[-3000:]
    rerun = _clientele("run", *common, "--as-of", "2026-06-16", "--job", "segments_only", env=env)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    return warehouse / "clientele.duckdb"


@pytest.mark.slow
def test_the_cli_backfill_is_a_dagster_backfill_with_each_dates_status(history: Path):
    import dagster as dg
    from dagster._core.execution.backfill import BulkActionStatus

    home = history.parent.parent / "dagster_home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(home))
        with dg.DagsterInstance.get() as instance:
            (backfill,) = instance.get_backfills()
            materialized = instance.get_materialized_partitions(dg.AssetKey(["marts", "customer_segments"]))
            runs = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill.backfill_id}))
    assert backfill.status == BulkActionStatus.COMPLETED_SUCCESS
    assert backfill.partition_names == ["2026-06-16", "2026-06-30"]
    assert sorted(run.tags["dagster/partition"] for run in runs) == ["2026-06-16", "2026-06-30"]
    assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)
    assert {"2026-06-16", "2026-06-30"} <= set(materialized)


def _rows(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute(sql).fetchall()


@pytest.mark.slow
def test_each_date_has_one_slice_and_a_rerun_replaces_it(history: Path):
    slices = _rows(
        history,
        "select as_of_date, count(*), count(distinct customer_key) from marts.customer_segments_history group by 1 "
        "order by 1",
    )
    assert [str(d) for d, _, _ in slices] == ["2026-06-16", "2026-06-30"]
    assert all(rows == customers for _, rows, customers in slices)
    latest = _rows(history, "select distinct as_of_date from marts.customer_segments")
    assert [str(d) for (d,) in latest] == ["2026-06-16"]


@pytest.mark.slow
def test_migration_counts_add_up_to_the_history(history: Path):
    moved = _rows(
        history,
        "select segment_dimension, sum(customer_count) filter (where to_segment <> 'absent'), "
        "sum(customer_count) filter (where from_segment <> 'absent') from marts.segment_migration group by 1",
    )
    counts = dict(
        _rows(history, "select as_of_date, count(*) from marts.customer_segments_history group by 1 order by 1")
    )
    earlier, later = sorted(counts)
    assert {dimension for dimension, _, _ in moved} == {"value_tier", "lifecycle_stage", "rfm_segment"}
    for _, to_count, from_count in moved:
        assert to_count == counts[later] and from_count == counts[earlier]
