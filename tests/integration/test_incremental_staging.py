"""Incremental models: a second run re-derives only the staging keys that received new raw rows and numbers
again only the order history of the customers whose orders changed, and ends with exactly the rows a full
rebuild from raw gives in every model (newer versions win, older re-exports do not, keys match after cleaning);
customers merged by the new night's records and orders of a customer record that arrived late are renumbered."""

import csv
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from clientele_demo import generate_demo_exports
from orchestration.lib.dbt_project import build_command, incremental_fingerprint, needs_full_refresh
from orchestration.lib.publish import PublishRequest, publish_marts
from orchestration.lib.publish_masking import pii_salt
from orchestration.lib.settings import WarehousePaths
from tests.conftest import write_csv

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

FIRST, SECOND, THIRD = date(2026, 6, 30), date(2026, 7, 1), date(2026, 7, 9)
ORDER_HEADER = ["order_id", "customer_id", "order_date", "amount", "currency", "status", "channel", "updated_at"]
STAGING = ("customers", "orders", "order_lines", "interactions", "tickets", "surveys")
STAGING_TABLES = tuple(f"staging.stg_crm__{entity}" for entity in STAGING)
ORPHAN = ["SO-ORPHAN-1", "CUS-LATE-1", "2026-06-01", "50.00", "USD", "completed", "web", "2026-06-01 10:00:00"]


def _clientele(*args: str, env: dict) -> None:
    command = [sys.executable, "-m", "orchestration.cli", *args]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]


def _orders(inbox: Path) -> dict[str, dict]:
    with (inbox / "generic_orders.csv").open(encoding="utf-8", newline="") as fh:
        return {row["order_id"]: row for row in csv.DictReader(fh)}


def _customers(inbox: Path) -> tuple[list[str], dict[str, dict]]:
    with (inbox / "generic_customers.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames), {row["customer_id"]: row for row in reader}


def _buyers(inbox: Path) -> list[str]:
    """Customer ids with orders, in order of their first order."""
    return list(dict.fromkeys(row["customer_id"] for row in _orders(inbox).values()))


def _next_night_customers(inbox: Path) -> tuple[list[str], list[list[str]]]:
    """A newer version of the fifth buyer's record sharing the fourth buyer's e-mail (the two customers merge),
    and the record the orphan order named (its order is attributed from now on)."""
    header, customers = _customers(inbox)
    fourth, fifth = (customers[customer_id] for customer_id in _buyers(inbox)[3:5])
    merged = fifth | {"email": fourth["email"], "updated_at": "2026-07-01 12:00:00"}
    late = fifth | {
        "customer_id": ORPHAN[1],
        "customer_name": "Late Record",
        "email": "late.record@example.com",
        "phone": "+86 100 0000 0001",
        "updated_at": "2026-07-01 12:00:00",
    }
    return header, [[row[column] for column in header] for row in (merged, late)]


def _last_order_of_a_repeat_buyer(inbox: Path, excluded: set[str]) -> dict:
    """The latest order (by a date no other order of theirs shares) of a buyer with several orders: moving it
    away leaves the numbers of the buyer's other orders as they were."""
    by_buyer: dict[str, list[dict]] = {}
    for order in _orders(inbox).values():
        by_buyer.setdefault(order["customer_id"], []).append(order)
    for buyer, orders in by_buyer.items():
        dates = sorted(order["order_date"] for order in orders)
        if buyer not in excluded and len(orders) > 2 and dates[-1] != dates[-2]:
            return max(orders, key=lambda order: order["order_date"])
    raise AssertionError("no repeat buyer with a distinct last order date")


def _next_night_orders(inbox: Path) -> list[list[str]]:
    exported = _orders(inbox)
    first, second, third = (exported[f"SO-000000000{n}"] for n in (1, 2, 3))
    other_buyer = next(buyer for buyer in _buyers(inbox) if buyer not in {first["customer_id"], third["customer_id"]})
    return [
        # a newer version of order 1 (cancelled since, now bought by another customer), an older one of order 2
        # (must not win) ...
        [first["order_id"], other_buyer, first["order_date"], "1.00", "USD", "cancelled", "web",
         "2026-07-01 08:00:00"],
        [second["order_id"], second["customer_id"], second["order_date"], "2.00", "USD", "refunded", "web",
         "2000-01-01 00:00:00"],
        # ... order 3 under an id with blanks around it (the same key once cleaned), and two new orders
        [f"  {third['order_id']} ", third["customer_id"], third["order_date"], "3.00", "USD", "refunded", "web",
         "2026-07-01 09:00:00"],
        ["SO-NEW-1", other_buyer, "2026-07-01", "10.00", "USD", "completed", "web", "2026-07-01 10:00:00"],
        ["SO-NEW-2", third["customer_id"], "2026-07-01", "20.00", "USD", "completed", "web", "2026-07-01 11:00:00"],
    ]  # fmt: skip


@pytest.fixture(scope="module")
def nightly(tmp_path_factory: pytest.TempPathFactory) -> tuple[WarehousePaths, WarehousePaths]:
    """The warehouse after a full run and two incremental ones, and a copy whose models were all rebuilt in full."""
    root = tmp_path_factory.mktemp("incremental")
    inbox, paths = root / "inbox", WarehousePaths(root / "warehouse")
    generate_demo_exports(inbox, 150, seed=5, profile="generic", end_date=FIRST)
    write_csv(inbox / "generic_orders_orphans.csv", ORDER_HEADER, [ORPHAN])
    next_night = _next_night_orders(inbox)
    customer_header, next_night_customers = _next_night_customers(inbox)
    env = os.environ | {"DAGSTER_HOME": str(root / "dagster_home")}
    common = ("--inbox", str(inbox), "--warehouse", str(paths.warehouse_dir))
    _clientele("run", *common, "--as-of", FIRST.isoformat(), env=env)
    assert not needs_full_refresh(paths.dbt_target_dir, incremental_fingerprint())

    write_csv(inbox / "generic_orders_2026-07-01.csv", ORDER_HEADER, next_night)
    write_csv(inbox / "generic_customers_2026-07-01.csv", customer_header, next_night_customers)
    _clientele("run", *common, "--as-of", SECOND.isoformat(), env=env)

    # a week later: order 1 goes back to its first buyer, the late record's customer buys again, and a repeat
    # buyer's last order moves to the first buyer (the repeat buyer's other orders keep their numbers)
    first = _orders(inbox)["SO-0000000001"]
    involved = {row[1] for row in next_night} | {first["customer_id"], ORPHAN[1]}
    moved = _last_order_of_a_repeat_buyer(inbox, involved)
    write_csv(
        inbox / "generic_orders_2026-07-09.csv",
        ORDER_HEADER,
        [
            [first["order_id"], first["customer_id"], first["order_date"], "1.00", "USD", "cancelled", "web",
             "2026-07-09 08:00:00"],
            ["SO-NEW-3", ORPHAN[1], "2026-07-08", "30.00", "USD", "completed", "web", "2026-07-08 10:00:00"],
            [moved["order_id"], first["customer_id"], moved["order_date"], moved["amount"], moved["currency"],
             moved["status"], moved["channel"], "2026-07-09 09:00:00"],
        ],
    )  # fmt: skip
    _clientele("run", *common, "--as-of", THIRD.isoformat(), env=env)

    rebuilt = WarehousePaths(root / "rebuilt")
    rebuilt.warehouse_dir.mkdir()
    shutil.copy2(paths.working_db, rebuilt.working_db)
    command = build_command(root / "target_rebuilt", root / "logs_rebuilt", THIRD)
    command += ["--full-refresh"]
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


def _rows(database: Path, sql: str, parameters: list | None = None) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute(sql, parameters or []).fetchall()


def test_the_second_run_built_staging_incrementally(nightly):
    paths, _ = nightly
    staging = paths.dbt_target_dir / "run" / "clientele" / "models" / "staging" / "crm"
    for path in (staging / f"stg_crm__{entity}.sql" for entity in STAGING):
        assert "delete from" in path.read_text(encoding="utf-8").lower(), path.name


def _model_tables(conn: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    return [
        f"{schema}.{table}"
        for schema, table in conn.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = ? "
            "and schema_name in ('staging', 'intermediate', 'marts') order by 1, 2",
            [catalog],
        ).fetchall()
    ]


def _compared_columns(conn: duckdb.DuckDBPyConnection, catalog: str, table: str) -> str:
    """Every column but those that differ between builds by design: the incremental order history's rebuild
    bookkeeping and the CLV fit's timing."""
    schema, name = table.split(".")
    columns = conn.execute(
        "select column_name from duckdb_columns() where database_name = ? and schema_name = ? and table_name = ? "
        "and column_name not in ('_rebuild_seq', '_orders_rebuild_seq', 'fit_seconds', 'fitted_at') "
        "order by column_index",
        [catalog, schema, name],
    ).fetchall()
    return ", ".join(f'"{column}"' for (column,) in columns)


def test_every_incremental_model_equals_a_full_rebuild(nightly):
    paths, rebuilt = nightly
    with duckdb.connect() as conn:
        conn.execute(f"attach '{paths.working_db}' as incremental (read_only)")
        conn.execute(f"attach '{rebuilt.working_db}' as rebuilt (read_only)")
        tables = _model_tables(conn, "incremental")
        assert tables == _model_tables(conn, "rebuilt")
        assert set(STAGING_TABLES) | {"intermediate.int_orders_resolved", "marts.orders"} <= set(tables)
        for table in tables:
            columns = _compared_columns(conn, "incremental", table)
            counts = conn.execute(f"select count(*) from incremental.{table}").fetchall()
            assert counts == conn.execute(f"select count(*) from rebuilt.{table}").fetchall(), table
            for left, right in (("incremental", "rebuilt"), ("rebuilt", "incremental")):
                only_left = conn.execute(
                    f"select count(*) from (select {columns} from {left}.{table} "
                    f"except all select {columns} from {right}.{table})"
                ).fetchall()
                assert only_left == [(0,)], f"{table}: rows only in {left}"


def test_the_order_history_was_rebuilt_only_for_touched_customers(nightly):
    paths, _ = nightly
    rows = _rows(
        paths.working_db,
        "select count(distinct customer_key) filter (where _rebuild_seq = (select max(_rebuild_seq) "
        "from intermediate.int_orders_resolved)), count(distinct customer_key) from intermediate.int_orders_resolved",
    )
    ((rebuilt, customers),) = rows
    assert 0 < rebuilt < customers / 2


def test_a_customer_touched_by_a_new_order_keeps_its_older_rows(nightly):
    paths, _ = nightly
    rows = dict(
        _rows(
            paths.working_db,
            "select order_id, _rebuild_seq from intermediate.int_orders_resolved where order_id in (?, 'SO-NEW-3')",
            [ORPHAN[0]],
        )
    )
    assert rows[ORPHAN[0]] < rows["SO-NEW-3"], "the late record's first order was not written again"


def test_merged_customers_and_late_records_are_renumbered(nightly):
    paths, _ = nightly
    fourth, fifth = _buyers(paths.warehouse_dir.parent / "inbox")[3:5]
    records = [f"generic:{customer_id}" for customer_id in (fourth, fifth, ORPHAN[1])]
    orders = _rows(
        paths.published_db,
        "select customer_record_key, customer_key, customer_order_number from marts.orders "
        "where customer_key in (select customer_key from marts.orders where customer_record_key in ?)",
        [records],
    )
    customer_of = {record: customer_key for record, customer_key, _ in orders}
    assert customer_of[records[0]] == customer_of[records[1]], "the merged records' orders share one customer"
    assert records[2] in customer_of, "the order of the late customer record is attributed"
    numbers: dict[str, list[int]] = {}
    for _, customer_key, number in orders:
        numbers.setdefault(customer_key, []).append(number)
    assert len(numbers) == 2
    for customer_numbers in numbers.values():
        assert sorted(customer_numbers) == list(range(1, len(customer_numbers) + 1))


def test_newer_versions_win_and_older_ones_do_not(nightly):
    paths, _ = nightly
    rows = dict(
        _rows(
            paths.working_db,
            "select order_id, order_status from staging.stg_crm__orders where valid_to is null "
            "and order_id in ('SO-0000000001', 'SO-0000000002', 'SO-0000000003', 'SO-NEW-1', 'SO-NEW-2')",
        )
    )
    assert rows["SO-0000000001"] == "cancelled"
    assert rows["SO-0000000002"] != "refunded"
    assert rows["SO-0000000003"] == "refunded"
    assert rows["SO-NEW-1"] == rows["SO-NEW-2"] == "completed"
    published = _rows(paths.published_db, "select count(*) from marts.orders where order_id like 'SO-NEW-%'")
    assert published == [(3,)]  # SO-NEW-1 and -2 of the second night, SO-NEW-3 of the third


def test_the_order_history_published_night_by_night_equals_a_fresh_publication_of_a_full_rebuild(nightly):
    paths, rebuilt = nightly
    fresh = publish_marts(rebuilt, PublishRequest("fresh", THIRD, ["orders"], salt=pii_salt(paths)))
    with duckdb.connect() as conn:
        conn.execute(f"attach '{paths.published_db}' as nightly (read_only)")
        conn.execute(f"attach '{fresh.database}' as fresh (read_only)")
        assert conn.execute("select count(*) from nightly.marts.orders").fetchall()[0][0] > 0
        for left, right in (("nightly", "fresh"), ("fresh", "nightly")):
            only_left = conn.execute(
                f"select count(*) from (select * from {left}.marts.orders "
                f"except all select * from {right}.marts.orders)"
            ).fetchall()
            assert only_left == [(0,)], f"published orders only in {left}"
