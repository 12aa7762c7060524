"""kill -9 during ingest, during dbt and during publication, then a normal run in the same Dagster home.

The next run must notice and repair what the killed one left: its run marked failed (so the warehouse pool and
the queue are free), its dbt process gone with it, its temporary publication files removed. Rows the killed run
loaded are judged by the gate before anything can publish them: an export with negative amounts, loaded but never
checked, is held instead of published.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from clientele_demo import generate_demo_exports
from orchestration.cli import ensure_dagster_home
from orchestration.lib.files import unload_file
from orchestration.lib.pipeline import PipelineOutcome, run_pipeline
from orchestration.lib.runs.failures import FAILURE_LOG
from orchestration.lib.settings import WarehousePaths
from tests.conftest import write_csv

AS_OF = date(2026, 6, 30)
ORDER_HEADER = ["order_id", "customer_id", "order_date", "amount", "currency", "status", "channel", "updated_at"]
WAIT_SECONDS = 300


def _cli_run(inbox: Path, warehouse: Path, home: Path, log: Path) -> subprocess.Popen:
    env = os.environ | {"DAGSTER_HOME": str(home)}
    command = [sys.executable, "-m", "orchestration.cli", "run", "--inbox", str(inbox), "--warehouse", str(warehouse)]
    with open(log, "w") as handle:
        return subprocess.Popen([*command, "--as-of", AS_OF.isoformat()], env=env, stdout=handle, stderr=handle)


def _wait_for(condition: Callable[[], bool], process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert process.poll() is None, f"the run ended before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _latest_run(home: Path) -> dg.DagsterRun | None:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs(limit=1)
    return runs[0] if runs else None


def _materialized(home: Path, asset: str) -> bool:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs(limit=1)
        if not runs:
            return False
        events = instance.all_logs(runs[0].run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    return any(event.dagster_event.asset_key == dg.AssetKey(asset) for event in events)


def _children(pid: int) -> list[tuple[int, str]]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append((int(entry.name), cmdline))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _kill(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def _recover(inbox: Path, warehouse: Path, home: Path) -> PipelineOutcome:
    assert os.environ["DAGSTER_HOME"] == str(home)
    return run_pipeline(inbox=inbox, warehouse=warehouse, as_of=AS_OF, echo=lambda _: None)


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    inbox, warehouse, home = tmp_path / "inbox", tmp_path / "warehouse", tmp_path / "home"
    generate_demo_exports(inbox, 1500, seed=9, profile="generic", end_date=AS_OF)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    ensure_dagster_home()
    return inbox, warehouse, home


@pytest.mark.slow
def test_kill_during_ingest_then_the_unchecked_rows_are_judged_before_any_publication(demo, tmp_path: Path):
    inbox, warehouse, home = demo
    bad = [[f"NEG{i}", "CUS-00000001", "2026-05-01", "-99.00", "USD", "completed", "web", ""] for i in range(20)]
    write_csv(inbox / "zz_negative_orders.csv", ORDER_HEADER, bad)
    process = _cli_run(inbox, warehouse, home, tmp_path / "killed.log")
    _wait_for(lambda: _materialized(home, "raw_orders"), process, "raw_orders to load")
    _kill(process)
    killed = _latest_run(home)

    recovered = _recover(inbox, warehouse, home)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE
    assert killed.run_id in (warehouse / FAILURE_LOG).read_text(encoding="utf-8")
    # the killed run's files were pending; the gate judged them and held the negative export
    assert not recovered.success and not recovered.published, recovered.summary()
    assert any("zz_negative_orders.csv" in held for held in recovered.held_files)

    unload_file(warehouse, "zz_negative_orders.csv", reason="negative amounts", actor="test")
    after = _recover(inbox, warehouse, home)
    assert after.success and after.published, after.summary()
    with duckdb.connect(str(WarehousePaths(warehouse).published_db), read_only=True) as conn:
        assert conn.execute("select count(*) from marts.orders where order_id like 'NEG%'").fetchall() == [(0,)]
        assert conn.execute("select count(*) from marts.customers").fetchall()[0][0] > 0


@pytest.mark.slow
def test_kill_during_dbt_takes_dbt_down_with_the_run_and_the_next_run_succeeds(demo, tmp_path: Path):
    inbox, warehouse, home = demo
    process = _cli_run(inbox, warehouse, home, tmp_path / "killed.log")
    dbt: list[tuple[int, str]] = []

    def dbt_started() -> bool:
        dbt[:] = [child for child in _children(process.pid) if "clientele-dbt" in child[1]]
        return bool(dbt)

    _wait_for(dbt_started, process, "dbt to start")
    time.sleep(1.0)  # dbt is connected to the working database by now
    _kill(process)
    deadline = time.monotonic() + 10
    while _alive(dbt[0][0]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(dbt[0][0]), "dbt outlived the run that started it"

    recovered = _recover(inbox, warehouse, home)
    assert recovered.success and recovered.published, recovered.summary()


@pytest.mark.slow
def test_kill_during_publication_leaves_the_last_publication_and_no_leftovers(demo, tmp_path: Path):
    inbox, warehouse, home = demo
    paths = WarehousePaths(warehouse)
    first = _recover(inbox, warehouse, home)
    assert first.success and first.published, first.summary()
    write_csv(
        inbox / "more_orders.csv", ORDER_HEADER, [["LATE1", "CUS-00000002", "2026-06-01", "10.00", "USD", "", "", ""]]
    )
    process = _cli_run(inbox, warehouse, home, tmp_path / "killed.log")
    _wait_for(lambda: any(paths.published_dir.glob(".clientele.duckdb.*.tmp")), process, "the publication to start")
    _kill(process)
    with duckdb.connect(str(paths.published_db), read_only=True) as conn:  # the last good publication is whole
        log = conn.execute("select run_id from marts._publish_log").fetchall()
    assert log == [(first.run_id,)]

    recovered = _recover(inbox, warehouse, home)
    assert recovered.success and recovered.published, recovered.summary()
    leftovers = [p.name for p in paths.published_dir.iterdir() if p.name.endswith(".tmp") or p.name.endswith(".link")]
    assert leftovers == []
    live = paths.parquet_dir.resolve()
    assert [p for p in paths.published_dir.glob("parquet-*") if p.resolve() != live] == []
    with duckdb.connect(str(paths.published_db), read_only=True) as conn:
        assert conn.execute("select count(*) from marts.orders where order_id = 'LATE1'").fetchall() == [(1,)]


@pytest.mark.slow
def test_sigterm_stops_a_run_cleanly_and_the_next_run_succeeds(demo, tmp_path: Path):
    inbox, warehouse, home = demo
    process = _cli_run(inbox, warehouse, home, tmp_path / "terminated.log")
    dbt: list[tuple[int, str]] = []

    def dbt_started() -> bool:
        dbt[:] = [child for child in _children(process.pid) if "clientele-dbt" in child[1]]
        return bool(dbt)

    _wait_for(dbt_started, process, "dbt to start")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=120) != 0  # it stops, and says the run did not succeed
    stopped = _latest_run(home)
    assert stopped.status == dg.DagsterRunStatus.FAILURE  # finished, not left STARTED holding the warehouse
    assert not _alive(dbt[0][0])
    recovered = _recover(inbox, warehouse, home)
    assert recovered.success and recovered.published, recovered.summary()
