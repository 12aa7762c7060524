"""Loading one file: every row loaded or quarantined with file, row, column and reason."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.ingest.detect import detect_file
from orchestration.lib.ingest.load import FileLoadResult, connect, ensure_raw_schema, load_file
from tests.conftest import write_csv, write_jsonl, write_xlsx

LOADED_AT = datetime(2026, 11, 1, 3, 0)
ORDER_HEADER = ["order_id", "customer_id", "order_date", "amount", "currency", "status"]


@pytest.fixture
def conn(tmp_path: Path):
    connection = connect(tmp_path / "wh" / "clientele.duckdb")
    ensure_raw_schema(connection)
    yield connection
    connection.close()


def load(conn: duckdb.DuckDBPyConnection, path: Path, inbox: Path) -> FileLoadResult:
    return load_file(conn, detect_file(path, inbox), run_id="test", loaded_at=LOADED_AT, scratch_dir=inbox / "_s")


def quarantine(conn) -> list[tuple]:
    return conn.execute(
        "SELECT source_file, source_row, column_name, raw_value, reason FROM raw._quarantine "
        "JOIN raw._ingest_ledger USING (file_id) ORDER BY source_row"
    ).fetchall()


def test_bad_rows_are_quarantined_with_row_column_and_reason(conn, inbox: Path):
    path = inbox / "orders.csv"
    path.write_text(
        "order_id,customer_id,order_date,amount,currency,status\n"
        "O1,C1,2026-01-02,10.50,USD,completed\n"  # line 2: fine
        "O2,,2026-01-03,5,USD,\n"  # line 3: blank required id
        "O3,C2,31/02/2026,5,EUR,Cancelled\n"  # line 4: unparseable date
        "O4,C3,2026-01-05\n"  # line 5: too few columns
        "O5,C3,2026-01-06,abc,USD,completed\n"  # line 6: non-numeric amount
        "O6,C4,2026-01-07,-3.00,USD,refunded,extra\n"  # line 7: too many columns
        "O7,C5,2026-01-08,7,USD,completed\n"  # line 8: fine
    )
    result = load(conn, path, inbox)
    assert (result.rows_in_file, result.rows_loaded, result.rows_quarantined) == (7, 2, 5)
    assert conn.execute("SELECT order_id, _source_row FROM raw.orders ORDER BY 1").fetchall() == [
        ("O1", 2),
        ("O7", 8),
    ]
    rows = quarantine(conn)
    assert [(r[1], r[2], r[3]) for r in rows] == [
        (3, "customer_id", None),
        (4, "order_date", "31/02/2026"),
        (5, "amount", None),
        (6, "amount", "abc"),
        (7, None, None),
    ]
    assert rows[0][4] == "customer_id: missing required value"
    assert "missing columns" in rows[2][4] and "too many columns" in rows[4][4]
    assert all(r[0] == "orders.csv" for r in rows)


def test_quarantine_keeps_the_whole_original_record(conn, inbox: Path):
    path = write_csv(inbox / "o.csv", ORDER_HEADER, [["O1", "C1", "someday", "1", "USD", "completed"]])
    load(conn, path, inbox)
    (record,) = conn.execute("SELECT raw_record FROM raw._quarantine").fetchall()[0]
    assert '"order_date":"someday"' in record and '"order_id":"O1"' in record


def test_values_are_typed_trimmed_and_vocabularies_kept_raw(conn, inbox: Path):
    path = write_csv(
        inbox / "o.csv",
        ORDER_HEADER,
        [["  O1 ", " C1", "2026-03-04T10:15:00+08:00", " 1234.5 ", "usd", "Completed"]],
    )
    load(conn, path, inbox)
    row = conn.execute("SELECT order_id, customer_id, order_date, amount, currency, status FROM raw.orders").fetchall()
    assert row == [("O1", "C1", date(2026, 3, 4), Decimal("1234.50"), "usd", "Completed")]


def test_fxiaoke_gb18030_amounts_dates_vocabulary_and_timezone(conn, inbox: Path):
    header = ["订单编号", "客户编号", "下单日期", "订单金额", "币种", "订单状态", "渠道", "最后修改时间"]
    rows = [
        ["F1", "K1", "2026/3/4", "1,234.50", "CNY", "已完成", "线上", "2026-03-04 10:15"],
        ["F2", "K2", "2026-03-05 09:00", "99", "CNY", "已退款", "门店", "2026/3/5 08:00"],
    ]
    path = write_csv(inbox / "销售订单.csv", header, rows, encoding="gb18030")
    result = load(conn, path, inbox)
    assert (result.profile, result.rows_loaded, result.rows_quarantined) == ("fxiaoke", 2, 0)
    loaded = conn.execute(
        "SELECT order_id, order_date, amount, status, updated_at FROM raw.orders ORDER BY 1"
    ).fetchall()
    assert loaded == [
        ("F1", date(2026, 3, 4), Decimal("1234.50"), "completed", datetime(2026, 3, 4, 2, 15)),
        ("F2", date(2026, 3, 5), Decimal("99.00"), "refunded", datetime(2026, 3, 5, 0, 0)),
    ]


def test_zoho_offsets_are_stored_as_utc(conn, inbox: Path):
    header = ["Id", "Account_Name", "Account_Type", "Created_Time", "Modified_Time"]
    path = write_csv(
        inbox / "Accounts.csv",
        header,
        [["Z1", "Acme", "Individual", "2026-03-04T10:15:00+08:00", "2026-03-04T10:15:00-05:00"]],
    )
    load(conn, path, inbox)
    row = conn.execute("SELECT customer_id, customer_type, created_at, updated_at FROM raw.customers").fetchall()
    assert row == [("Z1", "person", datetime(2026, 3, 4, 2, 15), datetime(2026, 3, 4, 15, 15))]


def test_jsonl_invalid_and_non_object_lines_are_quarantined(conn, inbox: Path):
    path = write_jsonl(
        inbox / "touches.jsonl",
        [
            {
                "interaction_id": "I1",
                "customer_id": "C1",
                "occurred_at": "2026-01-01T08:00:00",
                "interaction_type": "call",
            },
            "{not json",
            "[1, 2]",
            {"interaction_id": "I2", "customer_id": None, "occurred_at": "2026-01-02"},
            {"interaction_id": 3, "customer_id": "C3", "occurred_at": "2026-01-03"},
        ],
    )
    result = load(conn, path, inbox)
    assert (result.rows_loaded, result.rows_quarantined) == (2, 3)
    assert conn.execute("SELECT interaction_id FROM raw.interactions ORDER BY 1").fetchall() == [
        ("3",),
        ("I1",),
    ]
    assert [(r[1], r[2]) for r in quarantine(conn)] == [(2, None), (3, None), (4, "customer_id")]


def test_xlsx_numbers_stay_identifiers_and_rows_are_numbered_like_the_sheet(conn, inbox: Path):
    path = write_xlsx(
        inbox / "products.xlsx",
        ["product_id", "product_name", "category", "list_price"],
        [[1001, "Widget", "Tools", 12.5], [1002, "Gadget", "Tools", "n/a"], [1003, "Gizmo", None, 3]],
    )
    result = load(conn, path, inbox)
    assert (result.rows_loaded, result.rows_quarantined) == (2, 1)
    assert conn.execute("SELECT product_id, list_price FROM raw.products ORDER BY 1").fetchall() == [
        ("1001", Decimal("12.50")),
        ("1003", Decimal("3.00")),
    ]
    assert [(r[1], r[2], r[3]) for r in quarantine(conn)] == [(3, "list_price", "n/a")]


def test_invalid_utf8_bytes_quarantine_only_their_row(conn, inbox: Path):
    path = inbox / "customers.csv"
    path.write_bytes(b"customer_id,customer_name\nC1,Ann\nC2,Bad \xff\xfe name\nC3,Cy\n")
    result = load(conn, path, inbox)
    assert (result.rows_loaded, result.rows_quarantined) == (2, 1)
    assert quarantine(conn)[0][1] == 3


def test_a_one_megabyte_field_loads(conn, inbox: Path):
    big = "x" * (1 << 20)
    path = write_csv(inbox / "s.csv", ["response_id", "customer_id", "comment"], [["R1", "C1", big]])
    assert load(conn, path, inbox).rows_loaded == 1
    assert conn.execute("SELECT length(comment) FROM raw.surveys").fetchall() == [(1 << 20,)]


def test_formula_like_text_is_stored_verbatim_never_evaluated(conn, inbox: Path):
    path = write_csv(
        inbox / "c.csv",
        ["customer_id", "customer_name"],
        [["C1", '=HYPERLINK("http://x")'], ["C2", "'; DROP TABLE raw.orders; --"]],
    )
    load(conn, path, inbox)
    names = [r[0] for r in conn.execute("SELECT customer_name FROM raw.customers ORDER BY customer_id").fetchall()]
    assert names == ['=HYPERLINK("http://x")', "'; DROP TABLE raw.orders; --"]
    assert conn.execute("SELECT count(*) FROM raw.orders").fetchall() == [(0,)]


def test_header_only_file_loads_nothing_and_is_recorded(conn, inbox: Path):
    path = write_csv(inbox / "o.csv", ORDER_HEADER, [])
    result = load(conn, path, inbox)
    assert (result.rows_in_file, result.rows_loaded, result.rows_quarantined) == (0, 0, 0)
    assert conn.execute("SELECT count(*) FROM raw._ingest_ledger").fetchall() == [(1,)]


def test_the_same_content_twice_loads_once(conn, inbox: Path):
    first = write_csv(inbox / "a.csv", ORDER_HEADER, [["O1", "C1", "2026-01-01", "1", "USD", "completed"]])
    second = write_csv(inbox / "copy-of-a.csv", ORDER_HEADER, [["O1", "C1", "2026-01-01", "1", "USD", "completed"]])
    assert not load(conn, first, inbox).skipped_as_duplicate
    assert load(conn, second, inbox).skipped_as_duplicate
    assert conn.execute("SELECT count(*) FROM raw.orders").fetchall() == [(1,)]


def test_a_file_that_changes_after_the_scan_is_refused(conn, inbox: Path):
    from orchestration.lib.ingest.errors import IngestError

    path = write_csv(inbox / "o.csv", ORDER_HEADER, [["O1", "C1", "2026-01-01", "1", "USD", "completed"]])
    detected = detect_file(path, inbox)
    with open(path, "a") as fh:
        fh.write("O2,C1,2026-01-02,2,USD,completed\n")
    with pytest.raises(IngestError, match=r"o\.csv: file changed"):
        load_file(conn, detected, run_id="t", loaded_at=LOADED_AT, scratch_dir=inbox / "_s")
    assert conn.execute("SELECT count(*) FROM raw.orders").fetchall() == [(0,)]
