"""The sensors on real files, databases and runs: the inbox sensor asks for one run per new set of export contents
and none for contents it has seen (renamed or not) or the ledger holds; archiving keeps a verified copy before
removing anything; a failed run leaves a record naming its failed steps and checks, posted to a webhook."""

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import dagster as dg
import duckdb
import pytest

from orchestration.defs.resources import WarehouseResource
from orchestration.defs.sensors import NEW_FILES_TAG, archive_loaded_exports, inbox_sensor, record_run_failure
from orchestration.lib.as_of import PARTITION_TAG, today_in_schedule_timezone
from orchestration.lib.inbox import archive_files
from orchestration.lib.ingest import ledger
from orchestration.lib.ingest.detect import file_sha256
from orchestration.lib.runs.failures import ENV_ALERT_WEBHOOK, FAILURE_LOG
from tests.conftest import write_csv

HEADER = ["order_id", "customer_id", "order_date", "amount"]


def _warehouse(inbox: Path, warehouse: Path) -> WarehouseResource:
    return WarehouseResource(inbox_dir=str(inbox), warehouse_dir=str(warehouse))


def _tick(inbox: Path, warehouse: Path, cursor: str | None):
    with dg.build_sensor_context(cursor=cursor, resources={"warehouse": _warehouse(inbox, warehouse)}) as context:
        result = inbox_sensor(context)
        return (result if isinstance(result, dg.RunRequest) else None), context.cursor


def _write_ledger(database: Path, files: dict[str, str], run_id: str) -> None:
    """Ledger rows as ingest writes them: relative file name -> content hash, loaded by `run_id`."""
    database.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(database)) as conn:
        ledger.ensure_ledger(conn)
        for name, digest in files.items():
            ledger.record_load(
                conn,
                file_id=ledger.next_file_id(conn),
                file_hash=digest,
                source_file=name,
                entity="orders",
                source_profile="generic",
                file_format="csv",
                encoding="utf-8",
                rows_in_file=1,
                rows_loaded=1,
                rows_quarantined=0,
                loaded_at=datetime(2026, 1, 1),
                run_id=run_id,
                load_note=None,
            )


def test_one_run_per_new_file_set_and_none_for_repeats(tmp_path: Path):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    inbox.mkdir()
    assert _tick(inbox, warehouse, None)[0] is None

    write_csv(inbox / "orders.csv", HEADER, [["O1", "C1", "2026-01-01", "10"]])
    write_csv(inbox / "customers_ignored_by_name.csv", HEADER, [["O2", "C1", "2026-01-01", "20"]])
    (inbox / "_manifest.json").write_text("{}")
    (inbox / ".partial.csv").write_text("order_id\n")
    first, cursor = _tick(inbox, warehouse, None)
    assert first is not None and first.tags[NEW_FILES_TAG] == "2"
    assert first.partition_key == today_in_schedule_timezone().isoformat()  # the sensor's run is as of today

    again, cursor = _tick(inbox, warehouse, cursor)
    assert again is None

    (inbox / "orders.csv").rename(inbox / "orders_renamed.csv")
    write_csv(inbox / "sub" / "copy_of_orders.csv", HEADER, [["O1", "C1", "2026-01-01", "10"]])
    renamed, cursor = _tick(inbox, warehouse, cursor)
    assert renamed is None

    write_csv(inbox / "orders_tomorrow.csv", HEADER, [["O3", "C1", "2026-01-02", "30"]])
    second, cursor = _tick(inbox, warehouse, cursor)
    assert second is not None and second.tags[NEW_FILES_TAG] == "1"
    assert second.run_key != first.run_key


def test_the_run_key_is_the_content_set_whatever_the_names(tmp_path: Path):
    one, other = tmp_path / "one", tmp_path / "other"
    write_csv(one / "orders.csv", HEADER, [["O1", "C1", "2026-01-01", "10"]])
    write_csv(other / "2026" / "orders_export_renamed.csv", HEADER, [["O1", "C1", "2026-01-01", "10"]])
    first, _ = _tick(one, tmp_path / "warehouse", None)
    second, _ = _tick(other, tmp_path / "warehouse", None)
    assert first.run_key == second.run_key


def test_files_already_in_the_ledger_start_nothing(tmp_path: Path):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    loaded = write_csv(inbox / "orders.csv", HEADER, [["O1", "C1", "2026-01-01", "10"]])
    _write_ledger(warehouse / "clientele.duckdb", {"orders.csv": file_sha256(loaded)}, run_id="earlier-run")
    request, cursor = _tick(inbox, warehouse, None)
    assert request is None
    assert file_sha256(loaded) in json.loads(cursor)["hashes"]

    write_csv(inbox / "orders_new.csv", HEADER, [["O9", "C1", "2026-01-03", "90"]])
    request, _ = _tick(inbox, warehouse, cursor)
    assert request is not None and request.tags[NEW_FILES_TAG] == "1"


def test_a_missing_inbox_is_a_skip_not_an_error(tmp_path: Path):
    with dg.build_sensor_context(resources={"warehouse": _warehouse(tmp_path / "absent", tmp_path)}) as context:
        result = inbox_sensor(context)
    assert isinstance(result, dg.SkipReason) and "does not exist" in result.skip_message


def test_archiving_copies_and_verifies_before_removing(tmp_path: Path):
    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    write_csv(inbox / "a" / "orders.csv", HEADER, [["O1", "C1", "2026-01-01", "10"]])
    write_csv(inbox / "changed.csv", HEADER, [["O2", "C1", "2026-01-01", "10"]])
    loaded = {"a/orders.csv": file_sha256(inbox / "a" / "orders.csv"), "changed.csv": "0" * 64}
    archived = archive_files(inbox, archive, loaded)
    assert archived == [archive / "a" / "orders.csv"]
    assert not (inbox / "a" / "orders.csv").exists()
    assert file_sha256(archive / "a" / "orders.csv") == loaded["a/orders.csv"]
    assert (inbox / "changed.csv").exists()


def _run_and_final_event(instance: dg.DagsterInstance, assets: list, checks: list) -> tuple[dg.DagsterRun, object]:
    result = dg.materialize(
        [*assets, *checks], instance=instance, tags={PARTITION_TAG: "2026-03-04"}, raise_on_error=False
    )
    run = instance.get_run_by_id(result.run_id)
    kind = dg.DagsterEventType.RUN_SUCCESS if result.success else dg.DagsterEventType.RUN_FAILURE
    (entry,) = instance.all_logs(result.run_id, of_type=kind)
    return run, entry.dagster_event


def test_archive_sensor_moves_what_the_successful_run_loaded(tmp_path: Path):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    this_run = write_csv(inbox / "orders.csv", HEADER, [["O1", "C1", "2026-01-01", "10"]])
    other_run = write_csv(inbox / "later.csv", HEADER, [["O2", "C1", "2026-01-02", "20"]])

    @dg.asset
    def loaded() -> None:
        pass

    with dg.instance_for_test() as instance:
        run, event = _run_and_final_event(instance, [loaded], [])
        _write_ledger(warehouse / "clientele.duckdb", {"orders.csv": file_sha256(this_run)}, run.run_id)
        _write_ledger(warehouse / "clientele.duckdb", {"later.csv": file_sha256(other_run)}, "another-run")
        context = dg.build_run_status_sensor_context(
            sensor_name=archive_loaded_exports.name,
            dagster_event=event,
            dagster_instance=instance,
            dagster_run=run,
            resources={"warehouse": _warehouse(inbox, warehouse)},
        )
        archive_loaded_exports(context)
        finished = datetime.fromtimestamp(instance.get_run_record_by_id(run.run_id).end_time, UTC).date()

    archived = warehouse / "archive" / finished.isoformat() / "orders.csv"
    assert archived.is_file() and not this_run.exists()
    assert other_run.exists()


class _Recorder(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Recorder.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    _Recorder.received = []
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Recorder.received
    server.shutdown()
    server.server_close()


def test_a_failed_run_is_recorded_with_its_failed_steps_and_checks_and_posted(tmp_path: Path, webhook, monkeypatch):
    url, received = webhook
    monkeypatch.setenv(ENV_ALERT_WEBHOOK, url)

    @dg.asset
    def orders_loaded() -> int:
        return 3

    @dg.asset_check(asset=orders_loaded, blocking=True)
    def no_negative_amounts() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=False, metadata={"unexpected_count": 2})

    @dg.asset
    def crashes() -> None:
        raise ValueError("the export is truncated")

    warehouse = tmp_path / "warehouse"
    with dg.instance_for_test() as instance:
        run, event = _run_and_final_event(instance, [orders_loaded, crashes], [no_negative_amounts])
        context = dg.build_run_status_sensor_context(
            sensor_name=record_run_failure.name,
            dagster_event=event,
            dagster_instance=instance,
            dagster_run=run,
            resources={"warehouse": _warehouse(tmp_path / "inbox", warehouse)},
        ).for_run_failure()
        record_run_failure(context)

    (line,) = (warehouse / FAILURE_LOG).read_text(encoding="utf-8").splitlines()
    record = json.loads(line)
    assert record["run_id"] == run.run_id and record["as_of_date"] == "2026-03-04"
    failed_steps = {step["step"]: step["error"] for step in record["failed_steps"]}
    assert "the export is truncated" in failed_steps["crashes"]
    (check,) = record["failed_checks"]
    assert check == {
        "asset": "orders_loaded",
        "check": "no_negative_amounts",
        "severity": "ERROR",
        "blocking": True,
        "unexpected_count": 2,
    }
    (posted,) = received
    assert {key: posted[key] for key in record} == record
    assert "crashes" in posted["text"] and "orders_loaded / no_negative_amounts" in posted["text"]
