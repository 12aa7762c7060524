"""The ingest assets materialised for real: Dagster in-process, a DuckDB file on disk."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

from orchestration.defs.ingest import crm_export_files, raw_assets
from orchestration.defs.resources import WarehouseResource
from tests.conftest import write_csv, write_jsonl, write_xlsx


def materialize_ingest(inbox: Path, warehouse: Path) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [crm_export_files, *raw_assets],
        resources={"warehouse": WarehouseResource(inbox_dir=str(inbox), warehouse_dir=str(warehouse))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def table_counts(warehouse: Path) -> dict[str, int]:
    conn = duckdb.connect(str(warehouse / "clientele.duckdb"), read_only=True)
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw' ORDER BY 1"
            ).fetchall()
        ]
        return {n: conn.execute(f'SELECT count(*) FROM raw."{n}"').fetchall()[0][0] for n in names}
    finally:
        conn.close()


def fill_inbox_with_three_profiles(inbox: Path) -> None:
    write_csv(
        inbox / "generic" / "customers.csv",
        ["customer_id", "customer_name", "email"],
        [["C1", "Ann", "ann@example.com"], ["C2", "Bo", "bo@example.com"], ["", "Nobody", ""]],
    )
    write_jsonl(
        inbox / "generic" / "interactions.jsonl",
        [{"interaction_id": "I1", "customer_id": "C1", "occurred_at": "2026-01-01"}, "{broken"],
    )
    write_xlsx(
        inbox / "generic" / "products.xlsx",
        ["product_id", "product_name", "category", "list_price"],
        [["P1", "Widget", "Tools", 9.99], ["P2", "Gadget", "Tools", 19.99]],
    )
    write_csv(
        inbox / "zoho" / "Sales_Orders.csv",
        ["Id", "Account_Name.id", "Order_Date", "Grand_Total", "Currency", "Status", "Modified_Time"],
        [
            ["Z1", "C1", "2026-03-04", "100.00", "EUR", "Delivered", "2026-03-04T10:15:00+08:00"],
            ["Z2", "C2", "not a date", "5.00", "EUR", "Cancelled", ""],
        ],
    )
    write_csv(
        inbox / "fxiaoke" / "客户.csv",
        ["客户编号", "客户名称", "客户类型", "城市"],
        [["K1", "上海某公司", "企业", "上海"], ["K2", "张三", "个人", "成都"]],
        encoding="gb18030",
    )
    write_xlsx(
        inbox / "fxiaoke" / "满意度调查.xlsx",
        ["问卷编号", "客户编号", "填写时间", "推荐意愿", "满意度", "意见"],
        [["Q1", "K1", "2026/3/4 10:00", 9, 5, "很好"], ["Q2", "K2", "2026/3/5", "十", 4, ""]],
    )


def test_every_profile_and_format_loads_with_exact_counts(inbox: Path, warehouse_dir: Path):
    fill_inbox_with_three_profiles(inbox)
    result = materialize_ingest(inbox, warehouse_dir)
    assert result.success
    counts = table_counts(warehouse_dir)
    assert {k: counts[k] for k in ("customers", "orders", "interactions", "products", "surveys")} == {
        "customers": 4,
        "orders": 1,
        "interactions": 1,
        "products": 2,
        "surveys": 1,
    }
    assert counts["_quarantine"] == 4
    assert counts["_ingest_ledger"] == 6
    materializations = {
        m.asset_key.to_user_string(): m.metadata for m in result.asset_materializations_for_node("raw_customers")
    }
    assert materializations["raw_customers"]["rows_loaded"].value == 4
    assert materializations["raw_customers"]["rows_quarantined"].value == 1


def test_loaded_plus_quarantined_equals_rows_in_every_file(inbox: Path, warehouse_dir: Path):
    fill_inbox_with_three_profiles(inbox)
    assert materialize_ingest(inbox, warehouse_dir).success
    conn = duckdb.connect(str(warehouse_dir / "clientele.duckdb"), read_only=True)
    ledger = conn.execute(
        "SELECT source_file, rows_in_file, rows_loaded, rows_quarantined FROM raw._ingest_ledger ORDER BY 1"
    ).fetchall()
    conn.close()
    expected_rows = {
        "fxiaoke/客户.csv": 2,
        "fxiaoke/满意度调查.xlsx": 2,
        "generic/customers.csv": 3,
        "generic/interactions.jsonl": 2,
        "generic/products.xlsx": 2,
        "zoho/Sales_Orders.csv": 2,
    }
    assert {name: rows for name, rows, _, _ in ledger} == expected_rows
    assert all(loaded + quarantined == rows for _, rows, loaded, quarantined in ledger)


def test_a_second_run_over_the_same_files_adds_nothing(inbox: Path, warehouse_dir: Path):
    fill_inbox_with_three_profiles(inbox)
    assert materialize_ingest(inbox, warehouse_dir).success
    before = table_counts(warehouse_dir)
    second = materialize_ingest(inbox, warehouse_dir)
    assert second.success
    assert table_counts(warehouse_dir) == before
    skipped = second.asset_materializations_for_node("raw_orders")[0].metadata["files_skipped_already_loaded"]
    assert skipped.value == 1


def test_an_unusable_file_fails_the_scan_naming_it_and_loads_nothing(inbox: Path, warehouse_dir: Path):
    fill_inbox_with_three_profiles(inbox)
    write_csv(inbox / "mystery.csv", ["order_id", "customer_id", "total"], [["O1", "C1", "5"]])
    result = materialize_ingest(inbox, warehouse_dir)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert failure.step_key == "crm_export_files"
    message = failure.step_failure_data.user_failure_data.description
    assert "mystery.csv" in message and "order_date" in message and "amount" in message
    assert not (warehouse_dir / "clientele.duckdb").exists()
