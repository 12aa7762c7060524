"""The seeded demo export generator: layouts per profile, determinism, manifest truth, defects, scenarios."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from decimal import Decimal

import duckdb
import pytest

from clientele_demo import MANIFEST_NAME, generate_demo_exports
from orchestration.lib.schema import load_profiles
from tests.unit.demo_exports import (
    CUSTOMERS,
    END,
    as_decimal,
    by_header,
    load,
    local_date,
    main_file,
    parse_date,
    parse_time,
    parses_as_date,
    phone_digits,
    records_of,
)

ISO_CURRENCIES = {"CNY", "USD", "EUR", "GBP", "JPY", "SGD"}


@pytest.fixture(scope="module")
def exports(demo_exports):
    return demo_exports


def test_same_arguments_give_identical_bytes_and_another_seed_differs(tmp_path):
    runs = {}
    for label, seed in (("a", 3), ("b", 3), ("c", 4)):
        generate_demo_exports(tmp_path / label, 400, seed=seed, profile="fxiaoke", defects=True, end_date=END)
        runs[label] = {p.name: p.read_bytes() for p in sorted((tmp_path / label).iterdir())}
    assert runs["a"] == runs["b"]
    assert runs["a"].keys() == runs["c"].keys()
    assert runs["a"]["fxiaoke_orders.csv"] != runs["c"]["fxiaoke_orders.csv"]
    assert runs["a"]["fxiaoke_products.xlsx"] != runs["c"]["fxiaoke_products.xlsx"]  # prices are seeded too


@pytest.mark.parametrize("profile", ["generic", "zoho", "fxiaoke"])
def test_every_file_has_the_profile_headers_and_value_vocabulary(exports, profile):
    out, manifest = exports[profile, True]
    vendor = load_profiles()[profile]
    assert {f.entity for f in manifest.files} == set(vendor.entities)
    for record in manifest.files:
        headers, rows = load(out, manifest, record.name)
        assert headers == list(vendor.entities[record.entity].header_to_column), record.name
        for column, value_map in vendor.entities[record.entity].value_maps.items():
            values = {row[column].strip() for row in by_header(headers, rows, profile, record.entity)}
            assert values <= set(value_map), (record.name, column, values - set(value_map))


def test_profile_layouts_formats_and_encodings(exports):
    _, generic = exports["generic", False]
    assert {f.entity: f.file_format for f in generic.files if f.purpose == "main"} == {
        "customers": "csv", "orders": "csv", "order_lines": "csv", "products": "xlsx",
        "interactions": "jsonl", "tickets": "csv", "surveys": "csv",
    }  # fmt: skip
    zoho_out, zoho = exports["zoho", False]
    assert {(f.file_format, f.encoding) for f in zoho.files} == {("csv", "utf-8")}
    _, orders = load(zoho_out, zoho, "zoho_orders.csv")
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00", row[-1]) for row in orders)

    fx_out, fx = exports["fxiaoke", False]
    encodings = {f.entity: f.encoding for f in fx.files if f.purpose == "main"}
    assert encodings == {
        "customers": "gb18030", "orders": "gb18030", "order_lines": "gb18030", "interactions": "gb18030",
        "tickets": "gb18030", "surveys": "utf-8-sig", "products": "xlsx",
    }  # fmt: skip
    assert (fx_out / "fxiaoke_surveys.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    headers, rows = load(fx_out, fx, "fxiaoke_orders.csv")
    orders = by_header(headers, rows, "fxiaoke", "orders")
    assert all(re.fullmatch(r"\d{4}/\d{1,2}/\d{1,2}", o["order_date"]) for o in orders)
    assert any(re.fullmatch(r"\d{4}/\d/\d", o["order_date"]) for o in orders)  # unpadded like 2026/3/4
    minutes = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}"
    assert all(re.fullmatch(minutes, o["ordered_at"]) and re.fullmatch(minutes, o["updated_at"]) for o in orders)
    big = [o["amount"] for o in orders if as_decimal(o["amount"]) >= 1000]
    assert big and all(re.fullmatch(r"\d{1,3}(,\d{3})+\.\d{2}", a) for a in big)
    raw = (fx_out / "fxiaoke_orders.csv").read_bytes().decode("gb18030")
    assert f',"{big[0]}",' in raw  # thousands separators are quoted
    assert "\r\n" in raw


@pytest.mark.parametrize("profile", ["generic", "zoho", "fxiaoke"])
def test_orders_are_placed_at_a_time_on_their_order_date(exports, profile):
    out, manifest = exports[profile, False]
    for purpose in ("main", "changed_records"):
        orders = records_of(out, manifest, "orders", purpose)
        assert orders
        for order in orders:
            placed = parse_time(order["ordered_at"], profile)
            assert local_date(placed, profile) == parse_date(order["order_date"]), order
            assert parse_time(order["updated_at"], profile) >= placed, order


def test_gb18030_files_are_gb18030_and_not_utf8(exports):
    out, manifest = exports["fxiaoke", False]
    for record in manifest.files:
        if record.encoding != "gb18030":
            continue
        data = (out / record.name).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        assert data.decode("gb18030").startswith(
            next(iter(load_profiles()["fxiaoke"].entities[record.entity].header_to_column))
        )
    customers = (out / "fxiaoke_customers.csv").read_bytes().decode("gb18030")
    assert "中国" in customers and "有限公司" in customers and "深圳市" in customers


@pytest.mark.parametrize("profile", ["generic", "zoho", "fxiaoke"])
@pytest.mark.parametrize("defects", [False, True])
def test_manifest_counts_match_the_files(exports, profile, defects):
    out, manifest = exports[profile, defects]
    assert json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8")) == json.loads(manifest.to_json())
    written = {p.name for p in out.iterdir() if not p.name.startswith("_")}
    assert written == {f.name for f in manifest.files}
    for record in manifest.files:
        _, rows = load(out, manifest, record.name)
        assert len(rows) == record.rows, record.name
        if not defects or record.purpose != "main":
            assert record.defects == {} and record.loadable_rows == record.rows
        if record.purpose == "main" and not defects:
            assert record.rows == manifest.records[record.entity]


def test_clean_generic_files_read_back_with_duckdb(exports):
    out, manifest = exports["generic", False]
    for record in manifest.files:
        if record.file_format == "csv":
            count = duckdb.sql(f"SELECT count(*) FROM read_csv('{out / record.name}', all_varchar = true)").fetchall()[
                0
            ]
        elif record.file_format == "jsonl":
            count = duckdb.sql(
                f"SELECT count(*) FROM read_json('{out / record.name}', format = 'newline_delimited')"
            ).fetchall()[0]
        else:
            continue
        assert count[0] == record.rows, record.name


@pytest.mark.parametrize("profile", ["generic", "zoho", "fxiaoke"])
def test_defects_are_present_exactly_as_recorded(exports, profile):
    out, manifest = exports[profile, True]
    customer_ids = set()
    for record in manifest.files_for("customers"):
        headers, rows = load(out, manifest, record.name)
        customer_ids |= {r["customer_id"].strip() for r in by_header(headers, rows, profile, "customers")}
    total_rows = sum(f.rows for f in manifest.files if f.purpose == "main")
    total_defects = sum(sum(f.defects.values()) for f in manifest.files if f.purpose == "main")
    assert 0 < total_defects < 0.01 * total_rows

    for record in (f for f in manifest.files if f.purpose == "main"):
        headers, rows = load(out, manifest, record.name)
        entity = record.entity
        records = by_header(headers, rows, profile, entity)
        id_name = next(iter(records[0]))  # the first canonical column is the record id of every entity
        found = Counter()
        found["wrong_column_count"] = sum(len(r) != len(headers) for r in rows)
        found["exact_duplicate"] = len(rows) - len({tuple(r) for r in rows})
        found["blank_id"] = sum(r[id_name].strip() == "" for r in records)
        found["stray_whitespace"] = sum(any(v != v.strip() for v in r.values()) for r in records)
        if entity == "customers":
            found["mixed_case_email"] = sum(r["email"] != r["email"].lower() for r in records)
        if entity == "orders":
            found["unparseable_date"] = sum(not parses_as_date(r["order_date"]) for r in records)
            amounts = [as_decimal(r["amount"]) for r in records]
            found["non_numeric_amount"] = sum(a is None for a in amounts)
            found["negative_amount"] = sum(a is not None and a < 0 for a in amounts)
            found["unknown_currency"] = sum(r["currency"].strip() not in ISO_CURRENCIES for r in records)
            found["orphan_order"] = sum(r["customer_id"].strip() not in customer_ids for r in records)
        expected = dict(record.defects)
        assert {k: v for k, v in found.items() if v} == expected, record.name
        for kind in ("blank_id", "exact_duplicate", "stray_whitespace"):
            assert expected.get(kind, 0) >= 1, (record.name, kind)
        unloadable = found["wrong_column_count"] + found["blank_id"]
        unloadable += found["unparseable_date"] + found["non_numeric_amount"]
        assert record.unloadable_rows == unloadable and record.loadable_rows == len(rows) - unloadable


@pytest.mark.parametrize("profile", ["generic", "fxiaoke"])
def test_leads_without_orders_and_realistic_volumes(exports, profile):
    out, manifest = exports[profile, False]
    h, rows = load(out, manifest, main_file(manifest, "customers"))
    customers = by_header(h, rows, profile, "customers")
    h, rows = load(out, manifest, main_file(manifest, "orders"))
    orders = by_header(h, rows, profile, "orders")
    buyers = {o["customer_id"] for o in orders}
    leads = [c for c in customers if c["customer_id"] not in buyers]
    assert len(leads) == manifest.leads_without_orders
    assert 0.15 * CUSTOMERS < len(leads) < 0.25 * CUSTOMERS

    per_customer = {entity: count / CUSTOMERS for entity, count in manifest.records.items()}
    assert 8 < per_customer["orders"] < 12
    assert 2 < manifest.records["order_lines"] / manifest.records["orders"] < 3
    assert 2.5 < per_customer["interactions"] < 3.5
    assert 0.35 < per_customer["tickets"] < 0.7
    assert 0.2 < per_customer["surveys"] < 0.4
    assert 300 <= manifest.records["products"] <= 600

    # Heterogeneous buyers (BG/NBD-like): order counts are overdispersed, spend levels differ a lot.
    counts = Counter(o["customer_id"] for o in orders)
    values = list(counts.values())
    mean = sum(values) / len(values)
    variance = sum((v - mean) ** 2 for v in values) / len(values)
    assert variance > 3 * mean
    assert any(v == 1 for v in values) and max(values) > 5 * mean
    spend: dict[str, list[Decimal]] = {}
    for o in orders:
        if o["currency"] == "CNY":
            spend.setdefault(o["customer_id"], []).append(as_decimal(o["amount"]))
    averages = sorted(sum(v) / len(v) for v in spend.values() if len(v) >= 3)
    assert averages[int(0.9 * len(averages))] > 5 * averages[int(0.1 * len(averages))]

    dates = [
        datetime.strptime(o["order_date"], "%Y-%m-%d" if profile == "generic" else "%Y/%m/%d").date() for o in orders
    ]
    assert max(dates) <= END and (END - min(dates)).days > 3 * 365
    assert {c["country"] for c in customers} >= (
        {"CN", "US", "DE", "GB", "JP", "SG"} if profile == "generic" else {"中国", "美国"}
    )
    assert {o["currency"] for o in orders} == ISO_CURRENCIES
    # Orders are exported as first recorded (completed); cancellations and refunds come as later versions.
    statuses = ("completed", "cancelled", "refunded") if profile == "generic" else ("已完成", "已取消", "已退款")
    assert {o["status"] for o in orders} == {statuses[0]}
    assert {o["status"] for o in records_of(out, manifest, "orders", "changed_records")} == set(statuses)


def test_order_lines_sum_to_order_amounts(exports):
    out, manifest = exports["zoho", False]
    h, rows = load(out, manifest, "zoho_orders.csv")
    amounts = {o["order_id"]: as_decimal(o["amount"]) for o in by_header(h, rows, "zoho", "orders")}
    h, rows = load(out, manifest, "zoho_order_lines.csv")
    totals: dict[str, Decimal] = {}
    for line in by_header(h, rows, "zoho", "order_lines"):
        assert as_decimal(line["quantity"]) * as_decimal(line["unit_price"]) == as_decimal(line["line_amount"])
        totals[line["order_id"]] = totals.get(line["order_id"], Decimal(0)) + as_decimal(line["line_amount"])
    assert totals == amounts
    h, rows = load(out, manifest, "zoho_products.csv")
    products = {p["product_id"] for p in by_header(h, rows, "zoho", "products")}
    lines = by_header(*load(out, manifest, "zoho_order_lines.csv"), "zoho", "order_lines")
    assert {line["product_id"] for line in lines} <= products
    assert len({p["category"] for p in by_header(h, rows, "zoho", "products")}) == 10


@pytest.mark.parametrize("profile", ["generic", "zoho", "fxiaoke"])
def test_identity_duplicates_share_email_or_phone_in_another_form(exports, profile):
    out, manifest = exports[profile, False]
    customers = by_header(*load(out, manifest, main_file(manifest, "customers")), profile, "customers")
    twins_name = next(f.name for f in manifest.files if f.purpose == "identity_duplicates")
    twins = by_header(*load(out, manifest, twins_name), profile, "customers")
    by_email = {c["email"]: c for c in customers if c["email"]}
    by_phone = {phone_digits(c["phone"])[-10:]: c for c in customers if c["phone"]}
    matched = Counter()
    for twin in twins:
        if twin["email"]:
            original = by_email[twin["email"].strip().lower()]
            assert twin["email"] != original["email"]  # different case and/or whitespace
            matched["email"] += 1
        else:
            original = by_phone[phone_digits(twin["phone"])[-10:]]
            assert twin["phone"] != original["phone"]  # different formatting
            matched["phone"] += 1
        assert twin["customer_name"] == original["customer_name"]
        assert twin["customer_id"] != original["customer_id"]
    main_ids = {c["customer_id"] for c in customers}
    assert not main_ids & {t["customer_id"] for t in twins}
    stats = manifest.identity_duplicates
    assert stats["records"] == len(twins) > 0.02 * CUSTOMERS
    assert (stats["matched_by_email"], stats["matched_by_phone"]) == (matched["email"], matched["phone"])
    orders = by_header(*load(out, manifest, main_file(manifest, "orders")), profile, "orders")
    twin_ids = {t["customer_id"] for t in twins}
    assert stats["orders_under_duplicate_id"] == sum(o["customer_id"] in twin_ids for o in orders) > 0


def test_progress_is_reported_and_bad_arguments_are_refused(tmp_path):
    messages = []
    generate_demo_exports(tmp_path, 50, profile="generic", end_date=END, progress=messages.append)
    assert messages and "50 of 50" in messages[-1]
    with pytest.raises(ValueError, match="unknown profile"):
        generate_demo_exports(tmp_path, 10, profile="salesforce", end_date=END)
    with pytest.raises(ValueError, match="customers must be"):
        generate_demo_exports(tmp_path, 0, end_date=END)
