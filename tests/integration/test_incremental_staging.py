"""Incremental staging: a second run re-derives only the keys that received new raw rows, and ends with exactly
the rows a full rebuild from raw gives (newer versions win, older re-exports do not, keys match after cleaning)."""

import csv
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.dbt_project import build_command, incremental_fingerprint, needs_full_refresh
from orchestration.lib.demo_data import generate_demo_exports
from orchestration.lib.settings import WarehousePaths
from tests.conftest import write_csv

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

FIRST, SECOND = date(2026, 6, 30), date(2026, 7, 1)
ORDER_HEADER = ["order_id", "customer_id", "order_date", "amount", "currency", "status", "channel", "updated_at"]
STAGING = ("customers", "orders", "order_lines", "interactions", "tickets", "surveys")


def _clientele(*args: str, env: dict) -> None:
    command = [sys.executable, "-m", "orchestration.cli", *args]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]


def _orders(inbox: Path) -> dict[str, dict]:
    with (inbox / "generic_orders.csv").open(encoding="utf-8", newline="") as fh:
        return {row["order_id"]: row for row in csv.DictReader(fh)}


def _next_night_orders(inbox: Path) -> list[list[str]]:
    exported = _orders(inbox)
    first, second, third = (exported[f"SO-000000000{n}"] for n in (1, 2, 3))
    return [
        # a newer version of order 1 (cancelled since), an older one of order 2 (must not win) ...
        [first["order_id"], first["customer_id"], first["order_date"], "1.00", "USD", "cancelled", "web",
         "2026-07-01 08:00:00"],
        [second["order_id"], second["customer_id"], second["order_date"], "2.00", "USD", "refunded", "web",
         "2000-01-01 00:00:00"],
        # ... order 3 under an id with blanks around it (the same key once cleaned), and two new orders
        [f"  {third['order_id']} ", third["customer_id"], third["order_date"], "3.00", "USD", "refunded", "web",
         "2026-07-01 09:00:00"],
        ["SO-NEW-1", first["customer_id"], "2026-07-01", "10.00", "USD", "completed", "web", "2026-07-01 10:00:00"],
        ["SO-NEW-2", third["customer_id"], "2026-07-01", "20.00", "USD", "completed", "web", "2026-07-01 11:00:00"],
    ]  # fmt: skip


@pytest.fixture(scope="module")
def nightly(tmp_path_factory: pytest.TempPathFactory) -> tuple[WarehousePaths, WarehousePaths]:
    """The warehouse after a full run and an incremental one, and a copy whose staging was rebuilt in full."""
    root = tmp_path_factory.mktemp("incremental")
    inbox, paths = root / "inbox", WarehousePaths(root / "warehouse")
    generate_demo_exports(inbox, 150, seed=5, profile="generic", end_date=FIRST)
    next_night = _next_night_orders(inbox)
    env = os.environ | {"DAGSTER_HOME": str(root / "dagster_home")}
    common = ("--inbox", str(inbox), "--warehouse", str(paths.warehouse_dir))
    _clientele("run", *common, "--as-of", FIRST.isoformat(), env=env)
    assert not needs_full_refresh(paths.dbt_target_dir, incremental_fingerprint())

    write_csv(inbox / "generic_orders_2026-07-01.csv", ORDER_HEADER, next_night)
    _clientele("run", *common, "--as-of", SECOND.isoformat(), env=env)

    rebuilt = WarehousePaths(root / "rebuilt")
    rebuilt.warehouse_dir.mkdir()
    shutil.copy2(paths.working_db, rebuilt.working_db)
    command = build_command(root / "target_rebuilt", root / "logs_rebuilt", SECOND)
    command += ["--full-refresh", "--select", "path:models/staging"]
    completed = subprocess.run(
        command,
        env=os.environ | {"CLIENTELE_WAREHOUSE": str(rebuilt.warehouse_dir)},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-6000:]
    return paths, rebuilt


def _rows(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_the_second_run_built_staging_incrementally(nightly):
    paths, _ = nightly
    for entity in STAGING:
        executed = paths.dbt_target_dir / "run" / "clientele" / "models" / "staging" / "crm" / f"stg_crm__{entity}.sql"
        assert "delete from" in executed.read_text(encoding="utf-8").lower(), entity


def test_incremental_staging_equals_a_full_rebuild(nightly):
    paths, rebuilt = nightly
    with duckdb.connect() as conn:
        conn.execute(f"attach '{paths.working_db}' as incremental (read_only)")
        conn.execute(f"attach '{rebuilt.working_db}' as rebuilt (read_only)")
        for entity in STAGING:
            table = f"staging.stg_crm__{entity}"
            counts = conn.execute(f"select count(*) from incremental.{table}").fetchall()
            assert counts == conn.execute(f"select count(*) from rebuilt.{table}").fetchall(), entity
            for left, right in (("incremental", "rebuilt"), ("rebuilt", "incremental")):
                only_left = conn.execute(
                    f"select count(*) from (select * from {left}.{table} except all select * from {right}.{table})"
                ).fetchall()
                assert only_left == [(0,)], f"{entity}: rows only in {left}"


def test_newer_versions_win_and_older_ones_do_not(nightly):
    paths, _ = nightly
    rows = dict(
        _rows(
            paths.working_db,
            "select order_id, order_status from staging.stg_crm__orders "
            "where order_id in ('SO-0000000001', 'SO-0000000002', 'SO-0000000003', 'SO-NEW-1', 'SO-NEW-2')",
        )
    )
    assert rows["SO-0000000001"] == "cancelled"
    assert rows["SO-0000000002"] != "refunded"
    assert rows["SO-0000000003"] == "refunded"
    assert rows["SO-NEW-1"] == rows["SO-NEW-2"] == "completed"
    published = _rows(paths.published_db, "select count(*) from marts.orders where order_id like 'SO-NEW-%'")
    assert published == [(2,)]
