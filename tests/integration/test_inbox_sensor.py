"""The inbox sensor asks for one run per new set of export contents, none for files it has seen, renamed or not;
archiving keeps a verified copy before removing anything."""

from pathlib import Path

import dagster as dg

from orchestration.defs.resources import WarehouseResource
from orchestration.defs.sensors import inbox_sensor
from orchestration.lib.inbox import archive_files
from orchestration.lib.ingest.detect import file_sha256
from tests.conftest import write_csv

HEADER = ["order_id", "customer_id", "order_date", "amount"]


def _tick(inbox: Path, warehouse: Path, cursor: str | None):
    with dg.build_sensor_context(
        cursor=cursor, resources={"warehouse": WarehouseResource(inbox_dir=str(inbox), warehouse_dir=str(warehouse))}
    ) as context:
        result = inbox_sensor(context)
        return (result if isinstance(result, dg.RunRequest) else None), context.cursor


def test_one_run_per_new_file_set_and_none_for_repeats(tmp_path: Path):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    inbox.mkdir()
    assert _tick(inbox, warehouse, None)[0] is None

    write_csv(inbox / "orders.csv", HEADER, [["O1", "C1", "2026-01-01", "10"]])
    write_csv(inbox / "customers_ignored_by_name.csv", HEADER, [["O2", "C1", "2026-01-01", "20"]])
    (inbox / "_manifest.json").write_text("{}")
    first, cursor = _tick(inbox, warehouse, None)
    assert first is not None and first.tags["clientele/new_files"] == "2"

    again, cursor = _tick(inbox, warehouse, cursor)
    assert again is None

    (inbox / "orders.csv").rename(inbox / "orders_renamed.csv")
    write_csv(inbox / "sub" / "copy_of_orders.csv", HEADER, [["O1", "C1", "2026-01-01", "10"]])
    renamed, cursor = _tick(inbox, warehouse, cursor)
    assert renamed is None

    write_csv(inbox / "orders_tomorrow.csv", HEADER, [["O3", "C1", "2026-01-02", "30"]])
    second, cursor = _tick(inbox, warehouse, cursor)
    assert second is not None and second.tags["clientele/new_files"] == "1"
    assert second.run_key != first.run_key


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
