"""publish_marts on a small real working database (marts written by hand, raw tables by ingest's own DDL):
readers in any mode never block it, a killed publication's leftovers are removed, a publication only moves
forward, the publish log lives in the working database, documentation travels with the data, and the
audit tables are exported masked."""

import hashlib
import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.ingest.ledger import LEDGER_TABLE, QUARANTINE_TABLE
from orchestration.lib.ingest.load import connect, ensure_raw_schema
from orchestration.lib.publish import (
    PUBLISH_LOG,
    WORKING_LOG,
    PublicationKept,
    PublishRequest,
    PublishResult,
    current_publication,
    publish_marts,
)
from orchestration.lib.publish_audit import export_audit_tables
from orchestration.lib.publish_changes import parquet_select
from orchestration.lib.publish_docs import ColumnDoc, TableDoc
from orchestration.lib.settings import WarehousePaths

SALT = "test-salt"
DOCS = {
    "customers": TableDoc(
        "One row per customer.",
        {
            "customer_key": ColumnDoc("Resolved customer key."),
            "primary_customer_id": ColumnDoc("CRM id of the primary record."),
            "customer_name": ColumnDoc("Name."),
            "email": ColumnDoc("E-mail, hashed."),
            "owner": ColumnDoc("Account owner."),
            "lifetime_net_revenue": ColumnDoc("Net revenue.", "USD"),
        },
    )
}
READ_WRITE_READER = """
import sys, time, duckdb
conn = duckdb.connect(sys.argv[1])  # read-write
print(conn.execute("select count(*) from marts.customers").fetchall()[0][0], flush=True)
time.sleep(float(sys.argv[2]))
print(conn.execute("select count(*) from marts.customers").fetchall()[0][0], flush=True)
"""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rebuild_customers(paths: WarehousePaths, customers: int) -> None:
    """marts.customers with `customers` rows: an e-mail as an id, phones in a name and as an owner."""
    conn = connect(paths.working_db)
    try:
        conn.execute("create schema if not exists marts")
        conn.execute(
            """
            create or replace table marts.customers as
            select md5(i::varchar) as customer_key,
                   case when i = 0 then 'alice@example.com' else printf('CUS-%08d', i) end as primary_customer_id,
                   case when i = 1 then 'Call +86 138 1234 5678' else 'Customer ' || i end as customer_name,
                   'bob' || i || '@example.com' as email,
                   case when i = 2 then '13912345678' else 'Rep ' || i end as owner,
                   (i * 10.5)::decimal(18,2) as lifetime_net_revenue
            from range(?) t(i)
            """,
            [customers],
        )
    finally:
        conn.close()


def _working(paths: WarehousePaths) -> None:
    """A working database with one mart and ingest's raw tables, one quarantined row and one ledger entry."""
    _rebuild_customers(paths, 3)
    conn = connect(paths.working_db)
    try:
        ensure_raw_schema(conn)
        conn.execute(
            f"insert into {QUARANTINE_TABLE} values (1, 3, 'created_at', '2026-13-45', 'not a timestamp', "
            "'CUS-9,carol@example.com,+1 415 555 0134,2026-13-45', timestamp '2026-06-30 01:00:00', 'r1')"
        )
        conn.execute(
            f"insert into {LEDGER_TABLE} (file_id, file_hash, source_file, entity, source_profile, file_format, "
            "encoding, rows_in_file, rows_loaded, rows_quarantined, loaded_at, run_id, state, state_changed_at, "
            "accepted_seq) values (1, 'h1', 'c.csv', 'customers', 'generic', 'csv', 'utf-8', 4, 3, 1, "
            "timestamp '2026-06-30 01:00:00', 'r1', 'accepted', timestamp '2026-06-30 01:00:00', 1)"
        )
    finally:
        conn.close()


def _request(run_id: str, as_of: date, **overrides) -> PublishRequest:
    values = dict(
        run_id=run_id,
        as_of=as_of,
        marts=["customers"],
        pii_columns={"customers": ["email"]},
        mask_identifiers=True,
        salt=SALT,
        docs=DOCS,
    )
    return PublishRequest(**{**values, **overrides})


@pytest.fixture
def paths(tmp_path: Path) -> WarehousePaths:
    paths = WarehousePaths(tmp_path / "warehouse")
    _working(paths)
    return paths


def _published(paths: WarehousePaths, sql: str) -> list[tuple]:
    with duckdb.connect(str(paths.published_db), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_a_reader_holding_the_published_file_read_write_neither_blocks_nor_sees_a_half_publication(paths):
    assert isinstance(publish_marts(paths, _request("run-1", date(2026, 6, 30))), PublishResult)
    reader = subprocess.Popen(
        [sys.executable, "-c", READ_WRITE_READER, str(paths.published_db), "6"], stdout=subprocess.PIPE, text=True
    )
    first = reader.stdout.readline().strip()  # the reader has the file open read-write from here on
    _rebuild_customers(paths, 5)
    result = publish_marts(paths, _request("run-2", date(2026, 7, 1)))
    rest, _ = reader.communicate(timeout=60)
    assert isinstance(result, PublishResult) and result.row_counts == {"customers": 5}
    assert reader.returncode == 0 and [first, rest.strip()] == ["3", "3"]  # the old file, to the end
    assert _published(paths, "select count(*) from marts.customers") == [(5,)]
    assert _published(paths, f"select run_id from marts.{PUBLISH_LOG} order by published_at") == [
        ("run-1",),
        ("run-2",),
    ]


def test_the_log_moves_to_the_working_database_from_a_byte_copy_of_an_older_publication(paths):
    publish_marts(paths, _request("run-1", date(2026, 6, 30)))
    with duckdb.connect(str(paths.working_db)) as conn:  # as before the log lived in the working database
        conn.execute(f"drop table {WORKING_LOG}")
    reader = subprocess.Popen(
        [sys.executable, "-c", READ_WRITE_READER, str(paths.published_db), "4"], stdout=subprocess.PIPE, text=True
    )
    reader.stdout.readline()
    publish_marts(paths, _request("run-2", date(2026, 7, 1)))
    reader.communicate(timeout=60)
    with duckdb.connect(str(paths.working_db), read_only=True) as conn:
        working_log = conn.execute(f"select run_id from {WORKING_LOG} order by published_at").fetchall()
    assert working_log == [("run-1",), ("run-2",)]
    assert _published(paths, f"select run_id from marts.{PUBLISH_LOG} order by published_at") == working_log
    assert not list(paths.published_dir.glob(".*.tmp"))


def test_leftovers_of_a_killed_publication_are_removed_when_the_next_one_starts(paths):
    first = publish_marts(paths, _request("run-1", date(2026, 6, 30)))
    live = first.parquet_dir.resolve()
    planted_files = [
        paths.published_dir / ".clientele.duckdb.deadbeef-20260630T010000000000.tmp",
        paths.published_dir / ".clientele.duckdb.deadbeef-20260630T010000000000.tmp.wal",
        paths.published_dir / ".clientele.duckdb.migrate-999.tmp",
    ]
    for file in planted_files:
        file.write_bytes(b"partial")
    planted_dirs = [paths.published_dir / "parquet-deadbeef-1", paths.published_dir / "docs-deadbeef-1"]
    for directory in planted_dirs:
        directory.mkdir()
        (directory / "customers.parquet").write_bytes(b"partial")
    staged_link = paths.published_dir / ".parquet.parquet-deadbeef-1.link"
    staged_link.symlink_to("parquet-deadbeef-1")

    kept = publish_marts(paths, _request("run-0", date(2026, 6, 1)))  # cleans up, though it publishes nothing

    assert isinstance(kept, PublicationKept)
    assert not any(p.exists() or p.is_symlink() for p in [*planted_files, *planted_dirs, staged_link])
    assert paths.parquet_dir.resolve() == live and (live / "customers.parquet").exists()
    second = publish_marts(paths, _request("run-2", date(2026, 7, 1)))
    assert [p.name for p in paths.published_dir.glob("parquet-*")] == [second.parquet_dir.resolve().name]


def test_a_run_as_of_an_earlier_date_keeps_the_publication_and_the_same_date_replaces_it(paths):
    publish_marts(paths, _request("run-june", date(2026, 6, 30)))
    before = _sha256(paths.published_db)

    kept = publish_marts(paths, _request("run-may", date(2026, 5, 31)))

    assert kept == PublicationKept(as_of=date(2026, 6, 30), run_id="run-june", requested_as_of=date(2026, 5, 31))
    assert _sha256(paths.published_db) == before
    assert current_publication(paths).run_id == "run-june"

    _rebuild_customers(paths, 4)
    again = publish_marts(paths, _request("run-june-again", date(2026, 6, 30)))

    assert isinstance(again, PublishResult) and again.row_counts == {"customers": 4}
    assert _published(paths, f"select run_id, as_of_date from marts.{PUBLISH_LOG} order by published_at") == [
        ("run-june", date(2026, 6, 30)),
        ("run-june-again", date(2026, 6, 30)),
    ]


def test_descriptions_travel_as_comments_data_dictionary_and_parquet_metadata(paths):
    result = publish_marts(paths, _request("run-1", date(2026, 6, 30)))
    comments = dict(
        _published(
            paths,
            "select column_name, comment from duckdb_columns() where schema_name = 'marts' "
            "and table_name = 'customers'",
        )
    )
    assert comments["lifetime_net_revenue"] == "Net revenue." and comments["email"] == "E-mail, hashed."
    assert _published(paths, "select comment from duckdb_tables() where table_name = 'customers'") == [
        ("One row per customer.",)
    ]
    undocumented = _published(
        paths,
        "select schema_name, table_name, column_name from duckdb_columns() "
        "where database_name = current_database() and (comment is null or comment = '')",
    )
    assert undocumented == []
    dictionary = _published(
        paths,
        "select data_type, description, unit from marts._data_dictionary "
        "where table_name = 'customers' and column_name = 'lifetime_net_revenue'",
    )
    assert dictionary == [("DECIMAL(18,2)", "Net revenue.", "USD")]
    with duckdb.connect() as conn:
        metadata = dict(
            conn.execute(
                "select decode(key), decode(value) from parquet_kv_metadata(?)",
                [str(result.parquet_dir / "customers.parquet")],
            ).fetchall()
        )
    assert metadata["description"] == "One row per customer." and metadata["table"] == "marts.customers"
    assert json.loads(metadata["columns"])["lifetime_net_revenue"] == {"description": "Net revenue.", "unit": "USD"}


def test_identifiers_are_masked_in_every_text_column_and_the_audit_tables(paths):
    publish_marts(paths, _request("run-1", date(2026, 6, 30)))

    def hashed(text: str) -> str:
        return hashlib.sha256((SALT + text).encode()).hexdigest()

    rows = _published(paths, "select primary_customer_id, customer_name, email, owner from marts.customers")
    assert rows[0] == (hashed("alice@example.com"), "Customer 0", hashed("bob0@example.com"), "Rep 0")
    assert rows[1][0] == "CUS-00000001" and rows[1][1] == f"Call [phone:{hashed('8613812345678')[:16]}]"
    assert rows[2][3] == hashed("8613912345678")  # a bare Chinese mobile hashes as its E.164 form
    (record,) = _published(paths, "select raw_record from audit.quarantine")
    assert record == (
        f"CUS-9,[email:{hashed('carol@example.com')[:16]}],[phone:{hashed('14155550134')[:16]}],2026-13-45",
    )
    assert _published(paths, "select rows_loaded from audit.ingest_ledger") == [(3,)]


def test_nothing_is_masked_when_masking_is_off(paths):
    publish_marts(paths, _request("run-1", date(2026, 6, 30), mask_identifiers=False))
    rows = _published(paths, "select primary_customer_id, email from marts.customers order by primary_customer_id")
    assert ("alice@example.com", "bob0@example.com") in rows
    assert "+1 415 555 0134" in _published(paths, "select raw_record from audit.quarantine")[0][0]


def test_audit_tables_are_exported_masked_beside_the_warehouse(paths):
    killed_export = paths.warehouse_dir / "audit" / ".quarantine.parquet.4242.tmp"
    killed_export.parent.mkdir(parents=True)
    killed_export.write_bytes(b"partial")
    written = export_audit_tables(paths, salt=SALT)
    assert set(written) == {"quarantine", "ingest_ledger"}
    with duckdb.connect() as conn:
        record = conn.execute("select raw_record from read_parquet(?)", [str(written["quarantine"])]).fetchall()
        description = conn.execute(
            "select decode(value) from parquet_kv_metadata(?) where decode(key) = 'description'",
            [str(written["quarantine"])],
        ).fetchall()
    assert "carol@example.com" not in record[0][0] and "[email:" in record[0][0]
    assert description and "not loaded" in description[0][0]
    assert sorted(p.name for p in (paths.warehouse_dir / "audit").iterdir()) == [
        "ingest_ledger.parquet",
        "quarantine.parquet",
    ]
    # from ingest's own open connection, under its writer lock
    conn = connect(paths.working_db)
    try:
        conn.execute(f"delete from {QUARANTINE_TABLE}")
        again = export_audit_tables(paths, salt=SALT, conn=conn)
    finally:
        conn.close()
    with duckdb.connect() as reader:
        assert reader.execute("select count(*) from read_parquet(?)", [str(again["quarantine"])]).fetchall() == [(0,)]


def test_each_publication_is_recorded_in_the_working_log(paths):
    result = publish_marts(paths, _request("run-1", date(2026, 6, 30)))
    with duckdb.connect(str(paths.working_db), read_only=True) as conn:
        log = conn.execute(f"select run_id, published_at, row_counts from {WORKING_LOG}").fetchall()
    assert log == [("run-1", result.published_at, json.dumps({"customers": 3}))]


def _set_orders(paths: WarehousePaths, sql: str) -> None:
    conn = connect(paths.working_db)
    try:
        conn.execute(sql)
    finally:
        conn.close()


ORDERS = """
create or replace table marts.orders as
select printf('SO-%06d', i) as order_id, md5((i % 3)::varchar) as customer_key,
       date '2026-01-01' + (i * 7 % 120)::int as order_date, (i * 1.25)::decimal(18,2) as net_amount
from range(400) t(i)
"""
ORDER_DOCS = TableDoc("One row per order.", {"order_id": ColumnDoc("Order id.")})


def _orders_request(run_id: str, as_of: date, marts=("customers", "orders")) -> PublishRequest:
    return _request(run_id, as_of, marts=list(marts), docs={**DOCS, "orders": ORDER_DOCS})


def _contents(database: Path, parquet_dir: Path) -> dict[str, list[tuple]]:
    """Every published mart and audit table, from the DuckDB file and from Parquet, as sorted rows."""
    contents = {}
    with duckdb.connect(str(database), read_only=True) as conn:
        tables = conn.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database() "
            "and table_name not in ('_publish_log', '_data_dictionary')"
        ).fetchall()
        for schema, table in tables:
            contents[f"db:{schema}.{table}"] = sorted(
                map(repr, conn.execute(f"select * from {schema}.{table}").fetchall())
            )
        for file in sorted(parquet_dir.rglob("*.parquet")):
            if file.name.startswith("_"):
                continue
            relative = file.relative_to(parquet_dir)
            name = str(relative) if relative.parts[0] == "audit" else relative.parts[0].removesuffix(".parquet")
            query = parquet_select(parquet_dir, name) if relative.parts[0] != "audit" else f"select * from '{file}'"
            rows = conn.execute(query).fetchall()
            contents[f"parquet:{name}"] = sorted(map(repr, rows))
    return contents


def _fresh_publication(paths: WarehousePaths, tmp_path: Path, request: PublishRequest) -> dict[str, list[tuple]]:
    fresh = WarehousePaths(tmp_path / f"fresh-{request.run_id}")
    fresh.warehouse_dir.mkdir(parents=True)
    shutil.copyfile(paths.working_db, fresh.working_db)
    with duckdb.connect(str(fresh.working_db)) as conn:
        conn.execute("drop table if exists audit.publish_log; drop table if exists audit.publish_fingerprints")
    result = publish_marts(fresh, request)
    return _contents(result.database, result.parquet_dir)


def _inodes(parquet_dir: Path) -> dict[str, int]:
    live = parquet_dir.resolve()
    return {str(f.relative_to(live)): f.stat().st_ino for f in live.rglob("*.parquet")}


def test_each_night_writes_only_what_changed_and_equals_a_fresh_publication(paths, tmp_path: Path):
    _set_orders(paths, ORDERS)
    nights = [
        ("night-1", None),
        # a refund in February, new orders in May, a new customer
        (
            "night-2",
            "update marts.orders set net_amount = 0 where order_id = 'SO-000005'; "
            "insert into marts.orders values ('SO-900001', md5('1'), date '2026-05-03', 10.00); "
            "insert into marts.customers select md5('99'), 'CUS-99', 'New', 'new@example.com', 'Rep 9', 1.00",
        ),
        ("night-3", None),  # nothing changed
        # an order moved from March to April, every March order re-attributed, a late January order
        (
            "night-4",
            "update marts.orders set order_date = date '2026-04-02' where order_id = 'SO-000009'; "
            "update marts.orders set customer_key = md5('99') where month(order_date) = 3; "
            "insert into marts.orders values ('SO-900002', md5('2'), date '2026-01-02', 5.00)",
        ),
        # a new column in customers (a contract change) and the orders mart no longer published
        ("night-5", "alter table marts.customers add column segment varchar default 'A'"),
    ]
    inodes_before: dict[str, int] = {}
    for night, (run_id, change) in enumerate(nights, start=1):
        if change:
            _set_orders(paths, change)
        marts = ("customers",) if run_id == "night-5" else ("customers", "orders")
        request = _orders_request(run_id, date(2026, 6, night), marts)
        result = publish_marts(paths, request)
        assert _contents(result.database, result.parquet_dir) == _fresh_publication(paths, tmp_path, request), run_id
        inodes = _inodes(result.parquet_dir)
        kept = {name for name, inode in inodes.items() if inodes_before.get(name) == inode}
        if run_id == "night-2":
            assert {n for n in kept if n.startswith("orders/")} == {
                "orders/order_month=2026-01/data_0.parquet",
                "orders/order_month=2026-03/data_0.parquet",
                "orders/order_month=2026-04/data_0.parquet",
            }
            assert "customers.parquet" not in kept
        if run_id == "night-3":
            assert {n for n in inodes if not n.startswith(("audit/", "_"))} <= kept  # no mart rewritten
        if run_id == "night-4":
            assert {n for n in kept if n.startswith("orders/")} == {
                "orders/order_month=2026-02/data_0.parquet",
                "orders/order_month=2026-05/data_0.parquet",
            }
            assert "customers.parquet" in kept
        if run_id == "night-5":
            assert not any(n.startswith("orders") for n in inodes)
            with duckdb.connect(str(result.database), read_only=True) as conn:
                assert conn.execute("select count(*) from marts.customers where segment = 'A'").fetchall() == [(4,)]
        inodes_before = inodes


ORDER_HISTORY = """
create or replace table marts.orders as
select printf('generic:SO-%06d', i) as order_key, printf('SO-%06d', i) as order_id, 'C' || (i % 4) as customer_key,
       date '2026-01-01' + (i * 7 % 120)::int as order_date, (i * 1.25)::decimal(18,2) as net_amount,
       1::bigint as _orders_rebuild_seq
from range(400) t(i)
"""
# a numeric CRM order id that reads as a phone number only once a customer record carries that number
PHONE_LIKE_ORDER = "update marts.orders set order_id = '5550123456' where order_id = 'SO-000003'"
KNOWN_PHONE = (
    "insert into raw.customers (customer_id, phone, _file_id, _source_row) values ('CUS-P', '555-012-3456', 1, 9)"
)


def test_the_order_history_is_published_by_row_and_equals_a_fresh_publication(paths, tmp_path: Path):
    _set_orders(paths, ORDER_HISTORY + ";" + PHONE_LIKE_ORDER)
    nights = [
        ("night-1", None),
        # the dbt build rebuilt C1 whole (a refund) and wrote C2's new order only (its older rows stay as written)
        (
            "night-2",
            "update marts.orders set net_amount = 0, _orders_rebuild_seq = 2 where customer_key = 'C1' "
            "and order_id = 'SO-000005'; update marts.orders set _orders_rebuild_seq = 2 where customer_key = 'C1';"
            "insert into marts.orders values ('generic:SO-900001', 'SO-900001', 'C2', date '2026-05-03', 10.00, 2)",
        ),
        # C0 merged into C1: C0 is gone, C1 rebuilt; nothing of C3 (SO-000003) changed but a customer record now
        # carries its order id as a phone number
        (
            "night-3",
            "update marts.orders set customer_key = 'C1' where customer_key = 'C0';"
            "update marts.orders set _orders_rebuild_seq = 3 where customer_key = 'C1';" + KNOWN_PHONE,
        ),
        ("night-4", "delete from raw.customers where customer_id = 'CUS-P'"),  # the number is no longer known
        ("night-5", "delete from marts.orders where customer_key = 'C2'"),  # its export file was unloaded
        ("night-6", None),
    ]
    for night, (run_id, change) in enumerate(nights, start=1):
        if change:
            _set_orders(paths, change)
        request = _orders_request(run_id, date(2026, 6, night))
        result = publish_marts(paths, request)
        assert _contents(result.database, result.parquet_dir) == _fresh_publication(paths, tmp_path, request), run_id
        written = result.written["orders"]
        if run_id == "night-2":  # C1 and C2 rebuilt: the refunded order replaced, the new one written
            assert written.startswith("1 rows deleted and 2 written;"), written
        if run_id == "night-3":  # C0's 100 orders now C1's (C1's own stay), and C3's order id now masked
            assert written.startswith("101 rows deleted and 101 written;"), written
            hashed = hashlib.sha256((SALT + "5550123456").encode()).hexdigest()
            assert _published(paths, f"select count(*) from marts.orders where order_id = '{hashed}'") == [(1,)]
        if run_id == "night-4":  # C3's order id in clear again
            assert written.startswith("1 rows deleted and 1 written;"), written
            assert _published(paths, "select count(*) from marts.orders where order_id = '5550123456'") == [(1,)]
        if run_id == "night-5":  # C2's 101 orders
            assert written.startswith("101 rows deleted and 0 written;"), written
        if run_id == "night-6":
            assert written == "unchanged"


def test_a_damaged_previous_publication_is_not_built_upon(paths, tmp_path: Path):
    _set_orders(paths, ORDERS)
    publish_marts(paths, _orders_request("run-1", date(2026, 6, 1)))
    paths.published_db.write_bytes(b"not a database")  # replaced behind the pipeline's back
    _set_orders(paths, "update marts.orders set net_amount = 1 where order_id = 'SO-000001'")
    request = _orders_request("run-2", date(2026, 6, 2))
    result = publish_marts(paths, request)
    assert _contents(result.database, result.parquet_dir) == _fresh_publication(paths, tmp_path, request)


def test_a_changed_description_rewrites_the_file_that_carries_it(paths):
    publish_marts(paths, _request("run-1", date(2026, 6, 30)))
    redocumented = {"customers": TableDoc("One row per resolved customer.", DOCS["customers"].columns)}
    result = publish_marts(paths, _request("run-2", date(2026, 6, 30), docs=redocumented))
    assert result.written["customers"] == "written"
    with duckdb.connect() as conn:
        (description,) = conn.execute(
            "select decode(value) from parquet_kv_metadata(?) where decode(key) = 'description'",
            [str(result.parquet_dir / "customers.parquet")],
        ).fetchall()[0]
    assert description == "One row per resolved customer."
