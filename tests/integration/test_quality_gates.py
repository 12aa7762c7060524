"""Write-audit-publish end to end: a good run publishes; an export that breaks a blocking rule fails the run,
leaves the last good publication byte for byte, and is held: a re-run and a run with an unrelated clean file
fail on it, naming it, and so do the runs the inbox sensor and the nightly schedule ask for, until an operator
unloads it; a BI reader holding the published file open read-write
(the `duckdb` CLI's default) neither blocks nor breaks a later run, and keeps reading what it opened."""

import hashlib
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from clientele_demo import generate_demo_exports
from orchestration.definitions import defs
from orchestration.defs.resources import WarehouseResource
from orchestration.defs.sensors import inbox_sensor
from orchestration.lib.files import unload_file
from orchestration.lib.pipeline import PipelineOutcome, run_pipeline
from orchestration.lib.runs.failures import FAILURE_LOG
from orchestration.lib.settings import WarehousePaths
from tests.conftest import write_csv

AS_OF = date(2026, 6, 30)
ORDER_HEADER = ["order_id", "customer_id", "order_date", "amount", "currency", "status", "channel", "updated_at"]
READER = """
import sys, time, duckdb
conn = duckdb.connect(sys.argv[1])  # read-write, as the duckdb CLI opens a file
print(conn.execute("select count(*) from marts.customers").fetchall()[0][0], flush=True)
time.sleep(float(sys.argv[2]))
print(conn.execute("select count(*) from marts.customers").fetchall()[0][0], flush=True)
"""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _requested_run(request: dg.RunRequest, inbox: Path, warehouse: Path) -> PipelineOutcome:
    """Execute what a sensor or schedule asked for: its job, as of its partition."""
    assert request.partition_key, request
    as_of = date.fromisoformat(request.partition_key)
    return run_pipeline(
        inbox=inbox, warehouse=warehouse, as_of=as_of, job_name=request.job_name or "full_refresh", echo=lambda _: None
    )


def _sensor_request(inbox: Path, warehouse: Path) -> dg.RunRequest:
    resource = WarehouseResource(inbox_dir=str(inbox), warehouse_dir=str(warehouse))
    with dg.build_sensor_context(resources={"warehouse": resource}) as context:
        request = inbox_sensor(context)
    assert isinstance(request, dg.RunRequest), request
    return request


def _schedule_request(day: date) -> dg.RunRequest:
    schedule = defs().resolve_schedule_def("nightly_refresh")
    context = dg.build_schedule_context(scheduled_execution_time=datetime(day.year, day.month, day.day, 2, tzinfo=UTC))
    (request,) = schedule.evaluate_tick(context).run_requests
    return request


def _orders(prefix: str, n: int, amount: str) -> list[list[str]]:
    return [[f"{prefix}{i}", "CUS-00000001", "2026-05-01", amount, "USD", "completed", "web", ""] for i in range(n)]


@dataclass
class Runs:
    paths: WarehousePaths
    good: PipelineOutcome
    bad: PipelineOutcome
    bad_published_hash_before: str
    bad_published_hash_after: str
    rerun: PipelineOutcome
    unrelated: PipelineOutcome
    from_sensor: PipelineOutcome
    from_schedule: PipelineOutcome
    unload_message: str
    with_reader: PipelineOutcome
    reader_output: list[str]
    reader_returncode: int
    dagster_home: Path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    root = tmp_path_factory.mktemp("gates")
    inbox, warehouse = root / "inbox", root / "warehouse"
    paths = WarehousePaths(warehouse)
    generate_demo_exports(inbox, 200, seed=5, profile="generic", end_date=AS_OF)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(root / "dagster_home"))
        (root / "dagster_home").mkdir()

        def run() -> PipelineOutcome:
            return run_pipeline(inbox=inbox, warehouse=warehouse, as_of=AS_OF, echo=lambda _: None)

        good = run()
        before = _sha256(paths.published_db)
        write_csv(inbox / "late_orders.csv", ORDER_HEADER, _orders("BAD", 40, "-25.00"))
        bad = run()
        after = _sha256(paths.published_db)
        rerun = run()
        (inbox / "late_orders.csv").unlink()
        write_csv(inbox / "later_orders.csv", ORDER_HEADER, _orders("OK", 40, "25.00"))
        unrelated = run()
        write_csv(inbox / "sensor_orders.csv", ORDER_HEADER, _orders("SENSED", 5, "15.00"))
        from_sensor = _requested_run(_sensor_request(inbox, warehouse), inbox, warehouse)
        from_schedule = _requested_run(_schedule_request(AS_OF), inbox, warehouse)
        unloaded = unload_file(
            warehouse, "late_orders.csv", reason="negative amounts, re-export requested", actor="test"
        )
        reader = subprocess.Popen(
            [sys.executable, "-c", READER, str(paths.published_db), "20"], stdout=subprocess.PIPE, text=True
        )
        time.sleep(3)
        with_reader = run()
        output, _ = reader.communicate(timeout=120)
    return Runs(
        paths,
        good,
        bad,
        before,
        after,
        rerun,
        unrelated,
        from_sensor,
        from_schedule,
        unloaded,
        with_reader,
        output.split(),
        reader.returncode,
        root / "dagster_home",
    )


@pytest.mark.slow
def test_a_clean_run_publishes_every_mart_with_a_log(runs: Runs):
    assert runs.good.success and runs.good.published, runs.good.summary()
    # one file per mart; a partitioned mart (orders) is a directory of months
    parquet = sorted(p.name.removesuffix(".parquet") for p in runs.paths.parquet_dir.iterdir() if p.name != "audit")
    with duckdb.connect(str(runs.paths.published_db), read_only=True) as conn:
        marts = sorted(
            name
            for (name,) in conn.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()
        )
    assert {"customer_segments", "customer_clv", "_publish_log", "_data_dictionary"} <= set(marts)
    assert parquet == marts


@pytest.mark.slow
def test_a_blocking_check_fails_the_run_and_keeps_the_last_publication(runs: Runs):
    assert not runs.bad.success and not runs.bad.published
    assert any("raw_orders / gx_column_values_to_be_between__amount" in c for c in runs.bad.failed_checks)
    assert "unexpected_count=40" in runs.bad.summary()
    assert "NOT replaced" in runs.bad.summary()
    assert runs.bad_published_hash_after == runs.bad_published_hash_before


@pytest.mark.slow
def test_the_held_file_fails_every_later_run_until_an_operator_unloads_it(runs: Runs):
    for later in (runs.rerun, runs.unrelated, runs.from_sensor, runs.from_schedule):
        assert not later.success and not later.published, later.summary()
        assert any("raw_orders / gx_column_values_to_be_between__amount" in c for c in later.failed_checks)
        assert "late_orders.csv" in later.summary()
    assert "40 rows removed" in runs.unload_message
    with duckdb.connect(str(runs.paths.working_db), read_only=True) as conn:
        states = dict(conn.execute("select source_file, state from raw._ingest_ledger").fetchall())
        actions = conn.execute("select action, source_file, reason, actor from raw._ledger_actions").fetchall()
    assert states["late_orders.csv"] == "unloaded"
    assert states["later_orders.csv"] == states["sensor_orders.csv"] == "accepted"
    assert actions == [("unload", "late_orders.csv", "negative amounts, re-export requested", "test")]
    with duckdb.connect(str(runs.paths.published_db), read_only=True) as conn:
        published = conn.execute(
            "select count(*) filter (where order_id like 'BAD%'), count(*) filter (where order_id like 'OK%'), "
            "count(*) filter (where order_id like 'SENSED%') from marts.orders"
        ).fetchall()
    assert published == [(0, 40, 5)]


@pytest.mark.slow
def test_a_reader_holding_the_published_file_neither_blocks_nor_breaks_a_run(runs: Runs):
    assert runs.with_reader.success and runs.with_reader.published, runs.with_reader.summary()
    assert runs.reader_returncode == 0
    assert len(runs.reader_output) == 2 and runs.reader_output[0] == runs.reader_output[1]
    with duckdb.connect(str(runs.paths.published_db), read_only=True) as conn:
        log = conn.execute("select run_id from marts._publish_log order by published_at").fetchall()
    assert [run_id for (run_id,) in log] == [runs.good.run_id, runs.with_reader.run_id]


@pytest.mark.slow
def test_identifiers_are_published_as_salted_hashes_and_kept_raw_in_the_working_database(runs: Runs):
    with duckdb.connect(str(runs.paths.published_db), read_only=True) as conn:
        published = conn.execute("select customer_key, email from marts.customers where email is not null").fetchall()
    with duckdb.connect(str(runs.paths.working_db), read_only=True) as conn:
        working = dict(
            conn.execute("select customer_key, email from marts.customers where email is not null").fetchall()
        )
    assert published and all(len(email) == 64 and "@" not in email for _, email in published)
    key, hashed = published[0]
    salt = (runs.paths.warehouse_dir / ".pii_salt").read_text().strip()
    assert hashed == hashlib.sha256((salt + working[key]).encode()).hexdigest()


@pytest.mark.slow
def test_cli_runs_are_first_class_runs_of_the_code_location_and_failures_are_recorded_once(runs: Runs):
    import dagster as dg

    failed = [runs.bad, runs.rerun, runs.unrelated, runs.from_sensor, runs.from_schedule]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(runs.dagster_home))
        with dg.DagsterInstance.get() as instance:
            listed = set(instance.get_run_ids(dg.RunsFilter(tags={".dagster/repository": "__repository__@clientele"})))
            origin = instance.get_run_by_id(runs.good.run_id).remote_job_origin
    # the UI's job page and timeline list runs by their code-location origin; the failure sensor matches on it
    assert origin is not None and origin.location_name == "clientele"
    assert {runs.good.run_id, runs.with_reader.run_id, *(run.run_id for run in failed)} <= listed
    records = [json.loads(line) for line in (runs.paths.warehouse_dir / FAILURE_LOG).read_text().splitlines()]
    assert [record["run_id"] for record in records] == [run.run_id for run in failed]
    amount_check = "gx_column_values_to_be_between__amount"
    assert all(any(check["check"] == amount_check for check in r["failed_checks"]) for r in records)
