"""Hostile but realistic exports, one fixture each, with the outcome a data engineer should get: a clear error
naming the file, row and reason, or rows loaded and quarantined exactly, counted apart from the parser.

Each case writes its file(s) into a fresh inbox and states what must happen; `test_hostile_export` loads every
file the way the ingest assets do (detect, then load into a real DuckDB file) and checks the outcome.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.ingest.detect import detect_file, list_export_files
from orchestration.lib.ingest.errors import IngestError
from orchestration.lib.ingest.load import connect, ensure_raw_schema, load_file
from tests.conftest import write_csv, write_jsonl, write_xlsx

LOADED_AT = datetime(2026, 11, 1, 3, 0)
ORDER_HEADER = ["order_id", "customer_id", "order_date", "amount", "currency", "status"]


@dataclass(frozen=True)
class Expected:
    loaded: int | None = None
    quarantined: int | None = None
    rows_in_file: int | None = None
    error: str | None = None  # detection or load refuses the file with this text
    reasons: tuple[str, ...] = ()  # text found in the quarantine reasons
    quarantined_lines: tuple[int, ...] | None = None  # file lines of the quarantined rows, in order
    loaded_lines: tuple[int, ...] | None = None
    query: tuple[str, list] | None = None  # (SQL over the warehouse, expected rows)
    whole_file: bool = False  # every row quarantined as one unreadable file


@dataclass(frozen=True)
class Case:
    name: str
    write: Callable[[Path], None]
    expected: Expected = field(default_factory=Expected)


def _orders(n: int, start: int = 1) -> list[list[str]]:
    return [[f"O{i}", f"C{i % 7}", "2026-05-01", f"{10 + i}.50", "USD", "completed"] for i in range(start, start + n)]


def _stray_quote(inbox: Path) -> None:
    rows = _orders(2000)
    rows[100][2] = '"2026-05-01'  # line 102: a quote opens a field that never closes
    text = io.StringIO()
    text.write(",".join(ORDER_HEADER) + "\n")
    for row in rows:
        text.write(",".join(row) + "\n")
    (inbox / "orders.csv").write_text(text.getvalue(), encoding="utf-8")


def _latin1_row(inbox: Path) -> None:
    names = [("C1", "Muñoz", "Málaga"), ("C2", "Zoë Brontë", "Köln"), ("C3", "Ana", "São Paulo")] * 10
    lines = ["customer_id,customer_name,city"] + [
        f"{cid}{i},{name},{city}" for i, (cid, name, city) in enumerate(names)
    ]
    body = "\n".join(lines).encode("utf-8") + b"\n"
    body += "C99,Peña,Córdoba\n".encode("latin-1")  # one row exported from a Latin-1 system
    (inbox / "customers.csv").write_bytes(body)


def _fxiaoke_locale_amounts(inbox: Path) -> None:
    header = ["订单编号", "客户编号", "下单日期", "订单金额", "币种", "订单状态"]
    rows = [
        ["F1", "K1", "2026/3/4", "1,234.50", "CNY", "已完成"],
        ["F2", "K1", "2026/3/4", "1.234,50", "CNY", "已完成"],  # a European decimal comma: not this profile's format
        ["F3", "K1", "2026/3/4", "12,34", "CNY", "已完成"],  # a thousands separator with two digits
        ["F4", "K1", "2026/3/4", "99", "CNY", "已完成"],
    ]
    write_csv(inbox / "销售订单.csv", header, rows, encoding="gb18030")


def _jsonl_late_currency(inbox: Path) -> None:
    records = [{"order_id": "J0", "customer_id": "C1", "order_date": "2026-05-01", "amount": "10.00"}]
    records += [
        {"order_id": f"J{i}", "customer_id": "C1", "order_date": "2026-05-01", "amount": "700.00", "currency": "CNY"}
        for i in range(1, 50)
    ]
    write_jsonl(inbox / "orders.jsonl", records)


def _offset_plus_08(inbox: Path) -> None:
    write_csv(
        inbox / "customers.csv",
        ["customer_id", "created_at", "updated_at"],
        [["C1", "2026-03-04 10:15:00+08", "2026-03-04 10:15:00+0800"], ["C2", "2026-03-04", "2026-03-04T10:15:00Z"]],
    )


def _formula_without_value(inbox: Path) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(inbox / "orders.xlsx"))
    sheet = workbook.add_worksheet("orders")
    for column, header in enumerate(ORDER_HEADER):
        sheet.write(0, column, header)
    sheet.write_row(1, 0, ["X1", "C1", "2026-05-01", 12.5, "USD", "completed"])
    sheet.write_row(2, 0, ["X2", "C1", "2026-05-01"])
    sheet.write_formula(2, 3, "=10*2")  # xlsxwriter stores no computed value: readers see 0
    sheet.write_row(2, 4, ["USD", "completed"])
    workbook.close()


def _two_sheets(inbox: Path) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(inbox / "orders.xlsx"))
    for sheet_name, rows in (("January", _orders(5)), ("February", _orders(10, start=6))):
        sheet = workbook.add_worksheet(sheet_name)
        sheet.write_row(0, 0, ORDER_HEADER)
        for r, row in enumerate(rows, start=1):
            sheet.write_row(r, 0, row)
    workbook.close()


def _amount_twice(inbox: Path) -> None:
    write_csv(
        inbox / "orders.csv", [*ORDER_HEADER, "amount"], [["O1", "C1", "2026-05-01", "10", "USD", "completed", "99"]]
    )


def _colliding_headers(inbox: Path) -> None:
    write_csv(
        inbox / "orders.csv", [*ORDER_HEADER, "Amount "], [["O1", "C1", "2026-05-01", "10", "USD", "completed", "9"]]
    )


def _same_key_twice(inbox: Path) -> None:
    rows = _orders(3)
    rows.append(["O2", "C2", "2026-05-01", "999.00", "USD", "completed"])  # line 5: O2 again, another amount
    rows.append(list(rows[2]))  # line 6: O3 repeated exactly: harmless
    write_csv(inbox / "orders.csv", ORDER_HEADER, rows)


def _phone_in_amount(inbox: Path) -> None:
    header = ["订单编号", "客户编号", "下单日期", "订单金额", "币种", "订单状态"]
    rows = [
        ["F1", "K1", "2026/3/4", "13,800,138,000", "CNY", "已完成"],
        ["F2", "K1", "2026/3/4", "88.00", "CNY", "已完成"],
    ]
    write_csv(inbox / "销售订单.csv", header, rows, encoding="gb18030")


def _blank_lines_before_header(inbox: Path) -> None:
    (inbox / "orders.csv").write_text("\n\n" + ",".join(ORDER_HEADER) + "\nO1,C1,2026-05-01,10,USD,completed\n")


def _multi_line_field(inbox: Path) -> None:
    rows = [[f"S{i}", "C1", "2026-05-01 10:00:00", "9", "5", "fine"] for i in range(7)]
    rows[2][5] = "line one\nline two\nline three"  # lines 4-6
    rows[6][3] = "eleven"  # line 10: must be reported as line 10
    write_csv(
        inbox / "surveys.csv",
        ["response_id", "customer_id", "responded_at", "nps_score", "csat_score", "comment"],
        rows,
    )


def _workbook_named_csv(inbox: Path) -> None:
    write_xlsx(inbox / "products.csv", ["product_id", "product_name", "category", "list_price"], [["P1", "A", "B", 1]])


def _blank_lines_inside(inbox: Path) -> None:
    (inbox / "orders.csv").write_text(
        ",".join(ORDER_HEADER) + "\nO1,C1,2026-05-01,10,USD,completed\n\n\nO2,C1,2026-05-01,oops,USD,completed\n"
        "O3,C1,2026-05-01,12,USD,completed\n"
    )


def _utf16(inbox: Path) -> None:
    (inbox / "orders.csv").write_text(",".join(ORDER_HEADER) + "\n", encoding="utf-16")


def _binary(inbox: Path) -> None:
    (inbox / "orders.csv").write_bytes(b"\x00\x01\x02binary junk\x00")


def _fifo(inbox: Path) -> None:
    import os

    os.mkfifo(inbox / "orders.csv")


def _gb18030_broken(inbox: Path) -> None:
    header = ["客户编号", "客户名称", "城市"]
    rows = [[f"K{i}", "上海某某贸易有限公司", "上海"] for i in range(200)]
    path = write_csv(inbox / "客户.csv", header, rows, encoding="gb18030")
    data = bytearray(path.read_bytes())
    data[500] = 0xFF  # one byte that is valid in neither encoding, inside Chinese text
    path.write_bytes(bytes(data))


CASES = [
    Case(
        "stray quote swallows the rest of the file: quarantined whole, never half-loaded",
        _stray_quote,
        Expected(loaded=0, quarantined=2000, rows_in_file=2000, whole_file=True, reasons=("line 102",)),
    ),
    Case(
        "a Latin-1 row in a UTF-8 file: the file stays UTF-8, only that row is quarantined with its byte offset",
        _latin1_row,
        Expected(
            loaded=30,
            quarantined=1,
            reasons=("invalid encoding", "byte offset"),
            quarantined_lines=(32,),
            query=("select customer_name from raw.customers where customer_id = 'C10'", [("Muñoz",)]),
        ),
    ),
    Case(
        "amounts in another locale are quarantined, never re-read",
        _fxiaoke_locale_amounts,
        Expected(
            loaded=2,
            quarantined=2,
            reasons=("does not match the number format",),
            quarantined_lines=(3, 4),
            query=(
                "select order_id, amount from raw.orders order by 1",
                [("F1", Decimal("1234.50")), ("F4", Decimal("99.00"))],
            ),
        ),
    ),
    Case(
        "JSON Lines columns come from every record, not the first",
        _jsonl_late_currency,
        Expected(
            loaded=50,
            quarantined=0,
            query=(
                "select count(*) filter (where currency = 'CNY'), count(*) filter (where currency is null) "
                "from raw.orders",
                [(49, 1)],
            ),
        ),
    ),
    Case(
        "offsets like +08 and +0800 are honoured",
        _offset_plus_08,
        Expected(
            loaded=2,
            query=(
                "select customer_id, created_at, updated_at from raw.customers order by 1",
                [
                    ("C1", datetime(2026, 3, 4, 2, 15), datetime(2026, 3, 4, 2, 15)),
                    ("C2", datetime(2026, 3, 4, 0, 0), datetime(2026, 3, 4, 10, 15)),
                ],
            ),
        ),
    ),
    Case(
        "a workbook formula without a cached value is quarantined, not read as 0",
        _formula_without_value,
        Expected(loaded=1, quarantined=1, reasons=("formula =10*2 has no cached value",), quarantined_lines=(3,)),
    ),
    Case(
        "a workbook with data on two sheets is refused, naming the other sheet",
        _two_sheets,
        Expected(error="more than one sheet (also 'February' (11 rows))"),
    ),
    Case("a header twice is refused", _amount_twice, Expected(error="both map to amount")),
    Case("two headers meaning one column are refused", _colliding_headers, Expected(error="both map to amount")),
    Case(
        "the same key twice with different values quarantines both copies; an exact repeat loads",
        _same_key_twice,
        Expected(
            loaded=3,
            quarantined=2,
            reasons=("the same key appears on lines 3, 5",),
            quarantined_lines=(3, 5),
            loaded_lines=(2, 4, 6),
        ),
    ),
    Case(
        "a phone number pasted into an amount is quarantined at ingest",
        _phone_in_amount,
        Expected(
            loaded=1,
            quarantined=1,
            reasons=("outside the plausible range", "ingest_max_abs_money"),
            quarantined_lines=(2,),
        ),
    ),
    Case(
        "blank lines before the header add no row",
        _blank_lines_before_header,
        Expected(loaded=1, quarantined=0, rows_in_file=1, loaded_lines=(4,)),
    ),
    Case(
        "a quoted field over three lines keeps every later row on its own line number",
        _multi_line_field,
        Expected(loaded=6, quarantined=1, quarantined_lines=(10,), loaded_lines=(2, 3, 4, 7, 8, 9)),
    ),
    Case(
        "blank lines in the body are not rows and do not shift row numbers",
        _blank_lines_inside,
        Expected(loaded=2, quarantined=1, rows_in_file=3, quarantined_lines=(5,), loaded_lines=(2, 6)),
    ),
    Case(
        "a workbook saved with a .csv name is read as the workbook it is",
        _workbook_named_csv,
        Expected(loaded=1, quarantined=0),
    ),
    Case("UTF-16 is refused with a reason", _utf16, Expected(error="UTF-16 text is not supported")),
    Case("a binary file is refused, not read as headers", _binary, Expected(error="is a binary file")),
    Case("a FIFO is never opened", _fifo, Expected(error="is a FIFO, not a regular file")),
    Case(
        "a GB18030 file with a corrupt byte is refused with its offset, never garbled",
        _gb18030_broken,
        Expected(error="neither valid UTF-8 nor clean GB18030"),
    ),
]


def _load_inbox(inbox: Path, database: Path) -> list:
    paths, problems = list_export_files(inbox)
    if problems:
        raise problems[0]
    conn = connect(database)
    try:
        ensure_raw_schema(conn)
        return [
            load_file(
                conn, detect_file(path, inbox), run_id="hostile", loaded_at=LOADED_AT, scratch_dir=inbox.parent / "s"
            )
            for path in paths
        ]
    finally:
        conn.close()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_export(case: Case, tmp_path: Path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    case.write(inbox)
    database = tmp_path / "warehouse" / "clientele.duckdb"
    expected = case.expected
    if expected.error:
        with pytest.raises(IngestError) as raised:
            _load_inbox(inbox, database)
        assert expected.error in str(raised.value)
        assert str(inbox) in str(raised.value) or raised.value.path.startswith(str(inbox))
        return
    (result,) = _load_inbox(inbox, database)
    assert result.rows_in_file == result.rows_loaded + result.rows_quarantined
    if expected.loaded is not None:
        assert result.rows_loaded == expected.loaded
    if expected.quarantined is not None:
        assert result.rows_quarantined == expected.quarantined
    if expected.rows_in_file is not None:
        assert result.rows_in_file == expected.rows_in_file
    with duckdb.connect(str(database), read_only=True) as conn:
        quarantine = conn.execute("select source_row, reason from raw._quarantine order by source_row").fetchall()
        (entity,) = conn.execute("select entity from raw._ingest_ledger").fetchall()[0]
        loaded_lines = [r[0] for r in conn.execute(f"select _source_row from raw.{entity} order by 1").fetchall()]
        ledger = conn.execute(
            "select rows_in_file, rows_loaded, rows_quarantined, load_note from raw._ingest_ledger"
        ).fetchall()[0]
        if expected.query:
            sql, rows = expected.query
            assert conn.execute(sql).fetchall() == rows
    assert len(quarantine) == result.rows_quarantined
    assert ledger[:3] == (result.rows_in_file, result.rows_loaded, result.rows_quarantined)
    reasons = " | ".join(reason for _, reason in quarantine)
    for text in expected.reasons:
        assert text in reasons, reasons[:500]
    if expected.quarantined_lines is not None:
        assert tuple(line for line, _ in quarantine) == expected.quarantined_lines
    if expected.loaded_lines is not None:
        assert tuple(loaded_lines) == expected.loaded_lines
    if expected.whole_file:
        assert ledger[3] and all(reason.startswith("whole file quarantined") for _, reason in quarantine)


def test_every_case_is_named_for_what_it_proves():
    assert len({c.name for c in CASES}) == len(CASES)


def test_symlink_outside_the_inbox_is_reported_not_followed(tmp_path: Path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    secret = write_csv(tmp_path / "secret.csv", ["customer_id"], [["C1"]])
    (inbox / "link.csv").symlink_to(secret)
    paths, problems = list_export_files(inbox)
    assert paths == [] and "outside the inbox" in str(problems[0])


def test_quarantined_records_keep_their_original_text(tmp_path: Path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _same_key_twice(inbox)
    _load_inbox(inbox, tmp_path / "wh.duckdb")
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as conn:
        records = [
            json.loads(r[0])
            for r in conn.execute("select raw_record from raw._quarantine order by source_row").fetchall()
        ]
    assert [r["amount"] for r in records] == [12.5, 999.0]
    assert {r["order_id"] for r in records} == {"O2"}
