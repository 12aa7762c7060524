"""Recognising export files: format, encoding, delimiter, profile and entity from headers alone."""

from pathlib import Path

import pytest

from orchestration.lib.ingest.detect import detect_file, list_export_files, match_profile, scan_inbox
from orchestration.lib.ingest.errors import IngestError
from tests.conftest import write_csv, write_jsonl, write_xlsx

FX_ORDER_HEADER = ["订单编号", "客户编号", "下单日期", "订单金额", "币种", "订单状态", "渠道", "最后修改时间"]


def test_generic_headers_map_to_their_entity(tmp_path: Path):
    profile, entity, positions = match_profile(
        tmp_path / "x.csv", ("order_id", "customer_id", "order_date", "amount", "currency")
    )
    assert (profile, entity) == ("generic", "orders")
    assert dict(positions)["amount"] == 3


def test_header_matching_ignores_case_whitespace_and_bom(tmp_path: Path):
    profile, entity, _ = match_profile(tmp_path / "x.csv", ("\ufeffCustomer_ID ", " Customer_Name", "EMAIL"))
    assert (profile, entity) == ("generic", "customers")


def test_fxiaoke_tickets_are_not_mistaken_for_customers(tmp_path: Path):
    headers = ("工单编号", "客户编号", "创建时间", "解决时间", "状态", "优先级", "类别")
    assert match_profile(tmp_path / "t.csv", headers)[:2] == ("fxiaoke", "tickets")


def test_zoho_lookup_headers_are_recognised(tmp_path: Path):
    headers = ("Id", "Account_Name.id", "Order_Date", "Grand_Total", "Currency", "Status")
    assert match_profile(tmp_path / "so.csv", headers)[:2] == ("zoho", "orders")


def test_unrecognised_headers_name_the_missing_canonical_columns(tmp_path: Path):
    with pytest.raises(IngestError) as err:
        match_profile(tmp_path / "orders.csv", ("order_id", "customer_id", "total"))
    message = str(err.value)
    assert "orders.csv" in message
    assert "order_date" in message and "amount" in message
    assert "generic/orders" in message


def test_headers_matching_nothing_at_all_are_refused(tmp_path: Path):
    with pytest.raises(IngestError, match="match no CRM profile"):
        match_profile(tmp_path / "notes.csv", ("foo", "bar"))


def test_gb18030_is_detected_from_bytes(inbox: Path):
    path = write_csv(
        inbox / "订单.csv",
        FX_ORDER_HEADER,
        [["F1", "K1", "2026/3/4", "1,234.50", "CNY", "已完成", "", ""]],
        encoding="gb18030",
    )
    detected = detect_file(path, inbox)
    assert (detected.encoding, detected.profile, detected.entity) == ("gb18030", "fxiaoke", "orders")


def test_utf8_bom_and_semicolon_delimiter(inbox: Path):
    path = write_csv(
        inbox / "c.csv",
        ["customer_id", "customer_name"],
        [["C1", "Ann"]],
        encoding="utf-8-sig",
        delimiter=";",
    )
    detected = detect_file(path, inbox)
    assert (detected.encoding, detected.delimiter, detected.entity) == ("utf-8-sig", ";", "customers")


def test_jsonl_and_xlsx_headers(inbox: Path):
    jsonl = write_jsonl(inbox / "i.jsonl", [{"interaction_id": "I1", "customer_id": "C1", "occurred_at": None}])
    xlsx = write_xlsx(inbox / "p.xlsx", ["product_id", "product_name", "category", "list_price"], [["P1", "A", "B", 1]])
    assert detect_file(jsonl, inbox).entity == "interactions"
    assert detect_file(xlsx, inbox).file_format == "xlsx"


def test_xlsx_that_is_not_a_zip_is_refused_by_name(inbox: Path):
    bogus = inbox / "products.xlsx"
    bogus.write_text("product_id,product_name\nP1,x\n")
    with pytest.raises(IngestError, match=r"products\.xlsx.*not a valid XLSX"):
        detect_file(bogus, inbox)


def test_empty_file_is_refused(inbox: Path):
    (inbox / "empty.csv").write_bytes(b"")
    with pytest.raises(IngestError, match="empty"):
        detect_file(inbox / "empty.csv", inbox)


def test_manifests_and_hidden_files_are_not_exports(inbox: Path):
    write_csv(inbox / "c.csv", ["customer_id"], [["C1"]])
    (inbox / "_demo_manifest.json").write_text("{}")
    (inbox / ".DS_Store").write_text("x")
    (inbox / "_archive").mkdir()
    write_csv(inbox / "_archive" / "old.csv", ["customer_id"], [["C0"]])
    paths, problems = list_export_files(inbox)
    assert [p.name for p in paths] == ["c.csv"] and problems == []


def test_symlink_out_of_the_inbox_is_refused(inbox: Path, tmp_path: Path):
    outside = write_csv(tmp_path / "secret.csv", ["customer_id"], [["C1"]])
    (inbox / "link.csv").symlink_to(outside)
    with pytest.raises(IngestError, match="outside the inbox"):
        scan_inbox(inbox)


def test_same_content_has_the_same_hash_whatever_the_name(inbox: Path):
    a = write_csv(inbox / "a.csv", ["customer_id"], [["C1"]])
    b = write_csv(inbox / "b.csv", ["customer_id"], [["C1"]])
    assert detect_file(a, inbox).file_hash == detect_file(b, inbox).file_hash
