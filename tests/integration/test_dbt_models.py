"""The dbt project built for real on a seeded raw DuckDB database, checked for cross-layer invariants.

The fixture generator knows the truth behind the messy exports (which records are the same person, the
canonical status and currency of every order), so the checks compare dbt's results with that truth rather
than with numbers computed by the models themselves.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.lib.settings import DBT_PROJECT_DIR
from tests.raw_warehouse import dbt_build, write_raw_database

AS_OF = date(2025, 6, 30)
REPORTING_CURRENCY = "USD"
PROFILES = np.array(["generic", "zoho", "fxiaoke"])
FIRST_LOAD = datetime(2025, 1, 2, 3, 0)
SECOND_LOAD = datetime(2025, 6, 1, 3, 0)
CATEGORIES = np.array(["Hardware", "Software", "Services", "Consumables", "Training"])
COUNTRY_SPELLINGS = {
    "CN": ["China", "CN", "中国", " china "],
    "US": ["United States", "USA", "US"],
    "DE": ["Germany", "DE", "Deutschland"],
    "XX": [None],
}
CITY_SPELLINGS = {
    "CN": [
        "北京",
        "Beijing",
        "上海市",
        "Shanghai",
        "深圳",
        "Chengdu",
        "成都",
        "Hangzhou",
        "无锡",
        "佛山",
        "Harbin",
        "绵阳",
    ],
    "US": ["New York", "Chicago"],
    "DE": ["Berlin", "München"],
    "XX": [None, "London"],
}
CURRENCY_BY_COUNTRY = {"CN": "CNY", "US": "USD", "DE": "EUR", "XX": "GBP"}
STATUS_SPELLINGS = {
    "completed": ["completed", "Completed", " COMPLETED "],
    "cancelled": ["cancelled", "Cancelled", "CANCELLED"],
    "refunded": ["refunded", " Refunded"],
}


@dataclass(frozen=True)
class CrmFixture:
    """Raw rows per entity plus the truth the messy exports were derived from."""

    tables: dict[str, pd.DataFrame]
    record_person: pd.DataFrame  # source_profile, customer_id (trimmed) -> person
    order_truth: pd.DataFrame  # latest version of every order: canonical status/currency, amount, date


def _pick(rng: np.random.Generator, options_by_key: dict, keys: np.ndarray) -> np.ndarray:
    """One random option per row from the option list of the row's key (vectorised per key)."""
    out = np.empty(len(keys), dtype=object)
    for key, options in options_by_key.items():
        mask = keys == key
        out[mask] = np.array(options, dtype=object)[rng.integers(0, len(options), mask.sum())]
    return out


def _days(start: date, offsets: np.ndarray) -> pd.Series:
    return pd.Series(pd.Timestamp(start) + pd.to_timedelta(offsets, unit="D"))


def _customer_records(rng: np.random.Generator, persons: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Source customer records (before re-export duplicates) and the person behind each."""
    person = np.arange(persons)
    country = rng.choice(["CN", "US", "DE", "XX"], size=persons, p=[0.6, 0.2, 0.12, 0.08])
    email = pd.Series(person).map("p{:04d}@example.com".format).to_numpy()
    cn_digits = pd.Series(person).map("139{:08d}".format)
    us_digits = pd.Series(person).map("212555{:04d}".format)
    de_digits = pd.Series(person).map("30{:07d}".format)
    xx_digits = pd.Series(person).map("20{:08d}".format)
    phone_variant = rng.integers(0, 3, persons)
    phone = np.select(
        [
            (country == "CN") & (phone_variant == 0),
            (country == "CN") & (phone_variant == 1),
            country == "CN",
            (country == "US") & (phone_variant == 0),
            country == "US",
            (country == "DE") & (phone_variant == 0),
            country == "DE",
        ],
        [
            "+86 " + cn_digits,
            cn_digits,
            "0086-" + cn_digits.str[:3] + "-" + cn_digits.str[3:],
            "(" + us_digits.str[:3] + ") " + us_digits.str[3:6] + "-" + us_digits.str[6:],
            "+1 " + us_digits.str[:3] + "." + us_digits.str[3:6] + "." + us_digits.str[6:],
            "+49 " + de_digits,
            "0" + de_digits,
        ],
        default="+44 " + xx_digits,
    )
    persons_frame = pd.DataFrame(
        {
            "person": person,
            "country_key": country,
            "email": email,
            "phone": phone,
            "purchaser": rng.random(persons) < 0.75,
            "orders_per_year": np.where(rng.random(persons) < 0.2, 10.0, 1.5),
            "customer_type": rng.choice(["company", "person"], size=persons, p=[0.4, 0.6]),
        }
    )

    # one base record per person; 12% get a second record (shared e-mail) in another profile;
    # 5% form a chain: record 1 (email only) - email - record 2 (email + phone) - phone - record 3.
    kind = rng.choice(["single", "email_pair", "chain"], size=persons, p=[0.83, 0.12, 0.05])
    base_profile = rng.integers(0, 3, persons)
    pieces = [
        pd.DataFrame(
            {
                "person": person,
                "profile_index": base_profile,
                "email": email,
                "phone": np.where(kind == "chain", None, phone),
            }
        ),
        pd.DataFrame(
            {
                "person": person[kind != "single"],
                "profile_index": (base_profile[kind != "single"] + 1) % 3,
                "email": pd.Series(email[kind != "single"]).str.upper().to_numpy(),
                "phone": np.where(kind[kind != "single"] == "chain", phone[kind != "single"], None),
            }
        ),
        pd.DataFrame(
            {
                "person": person[kind == "chain"],
                "profile_index": (base_profile[kind == "chain"] + 2) % 3,
                "email": pd.Series(person[kind == "chain"]).map("other.{:04d}@example.org".format).to_numpy(),
                "phone": pd.Series(phone[kind == "chain"]).str.replace(" ", "", regex=False).to_numpy(),
            }
        ),
    ]
    records = pd.concat(pieces, ignore_index=True)
    records["source_profile"] = PROFILES[records["profile_index"].to_numpy()]
    serial = pd.Series(np.arange(len(records)) + 1)
    records["customer_id"] = np.select(
        [records["source_profile"] == "generic", records["source_profile"] == "zoho"],
        [serial.map("C{:05d}".format), serial.map("4876{:09d}".format)],
        default=serial.map("KH{:06d}".format),
    )
    return persons_frame, records.drop(columns="profile_index")


def generate_crm_fixture(persons: int = 240, seed: int = 20250630) -> CrmFixture:
    """Messy raw CRM rows for every entity, deterministic for a seed."""
    rng = np.random.default_rng(seed)
    people, records = _customer_records(rng, persons)
    records = records.merge(people.drop(columns=["email", "phone"]), on="person")
    n_records = len(records)

    exported_email = records["email"].copy()
    shout = rng.random(n_records) < 0.2
    exported_email[shout] = "  " + exported_email[shout].str.upper() + " "
    type_spelling = rng.integers(0, 3, n_records)
    exported_type = np.where(
        type_spelling == 0,
        records["customer_type"].str.capitalize(),
        np.where(type_spelling == 1, " " + records["customer_type"].str.upper(), records["customer_type"]),
    )
    padded_id = np.where(rng.random(n_records) < 0.1, " " + records["customer_id"] + " ", records["customer_id"])
    customers = pd.DataFrame(
        {
            "customer_id": padded_id,
            "customer_name": records["person"].map("Customer {:04d}".format),
            "customer_type": exported_type,
            "email": exported_email,
            "phone": records["phone"],
            "country": _pick(rng, COUNTRY_SPELLINGS, records["country_key"].to_numpy()),
            "province": None,
            "city": _pick(rng, CITY_SPELLINGS, records["country_key"].to_numpy()),
            "industry": rng.choice(["Retail", "Manufacturing", "Education"], n_records),
            "owner": rng.choice(["Alice", "Bo Li", "Chen Wei"], n_records),
            "lead_source": rng.choice(["web", "referral", "event"], n_records),
            "created_at": _days(date(2021, 6, 1), rng.integers(0, 500, n_records)),
            "updated_at": _days(date(2024, 1, 1), rng.integers(0, 300, n_records)),
            "_source_profile": records["source_profile"],
            "_loaded_at": SECOND_LOAD,
        }
    )
    # 10% re-exported: an older version (older updated_at, first load) with a stale name; a few of
    # them tie on updated_at so the later load has to win.
    stale = customers[rng.random(n_records) < 0.1].copy()
    tie = rng.random(len(stale)) < 0.3
    stale["updated_at"] = np.where(tie, stale["updated_at"], stale["updated_at"] - pd.Timedelta(days=30))
    stale["customer_name"] = "OLD " + stale["customer_name"]
    stale["_loaded_at"] = FIRST_LOAD
    customers = pd.concat([customers, stale], ignore_index=True)

    # orders: purchasers buy at their own rate between 2022-01-01 and 2025-09-30 (some after as_of)
    buyers = records[records["purchaser"]]
    span_days = (date(2025, 9, 30) - date(2022, 1, 1)).days
    counts = np.maximum(1, rng.poisson(buyers["orders_per_year"].to_numpy() * span_days / 365 / 1.6))
    order_record = buyers.loc[buyers.index.repeat(counts)].reset_index(drop=True)
    n_orders = len(order_record)
    status = rng.choice(["completed", "cancelled", "refunded"], n_orders, p=[0.85, 0.1, 0.05])
    currency = order_record["country_key"].map(CURRENCY_BY_COUNTRY).to_numpy()
    missing_currency = rng.random(n_orders) < 0.05
    serial = pd.Series(np.arange(n_orders) + 1)
    order_truth = pd.DataFrame(
        {
            "source_profile": order_record["source_profile"],
            "order_id": serial.map("SO{:07d}".format),
            "customer_id": order_record["customer_id"],
            "person": order_record["person"],
            "order_date": _days(date(2022, 1, 1), rng.integers(0, span_days + 1, n_orders)).dt.date,
            "amount": np.round(rng.uniform(20, 3000, n_orders), 2),
            "status": status,
            "currency": np.where(missing_currency, REPORTING_CURRENCY, currency),
        }
    )
    currency_spelling = rng.integers(0, 3, n_orders)
    exported_currency = np.where(
        currency_spelling == 0,
        pd.Series(currency).str.lower(),
        np.where(currency_spelling == 1, " " + currency + " ", currency),
    )
    orders = pd.DataFrame(
        {
            "order_id": order_truth["order_id"],
            "customer_id": order_truth["customer_id"],
            "order_date": order_truth["order_date"],
            "amount": order_truth["amount"],
            "currency": np.where(missing_currency, None, exported_currency),
            "status": _pick(rng, STATUS_SPELLINGS, status),
            "channel": rng.choice(["online", "store", "partner"], n_orders),
            # known on its order date: under point-in-time rules an order counts as of a date only when a
            # version of it was known by the end of that day
            "updated_at": pd.to_datetime(order_truth["order_date"]) + pd.Timedelta(hours=20),
            "_source_profile": order_truth["source_profile"],
            "_loaded_at": SECOND_LOAD,
        }
    )
    stale_orders = orders[rng.random(n_orders) < 0.08].copy()
    stale_orders["status"] = "Cancelled"
    stale_orders["amount"] = stale_orders["amount"] + 100
    stale_orders["updated_at"] = stale_orders["updated_at"] - pd.Timedelta(days=1)
    stale_orders["_loaded_at"] = FIRST_LOAD
    orphans = orders.head(4).copy()
    orphans["order_id"] = ["SO-ORPHAN-1", "SO-ORPHAN-2", "SO-ORPHAN-3", "SO-ORPHAN-4"]
    orphans["customer_id"] = "GHOST"
    orphans["_source_profile"] = "generic"
    orders = pd.concat([orders, stale_orders, orphans], ignore_index=True)

    # products: the same 12 products in every profile; 1-3 lines per order
    product_number = np.tile(np.arange(12), 3)
    products = pd.DataFrame(
        {
            "product_id": pd.Series(product_number).map("P{:02d}".format),
            "product_name": pd.Series(product_number).map("Product {:02d}".format),
            "category": CATEGORIES[product_number % len(CATEGORIES)],
            "list_price": np.round(50 + product_number * 10.0, 2),
            "_source_profile": np.repeat(PROFILES, 12),
            "_loaded_at": FIRST_LOAD,
        }
    )
    # baskets: later lines often come from the "next" category (Hardware -> Software -> Services ...)
    lines_per_order = rng.integers(1, 4, n_orders)
    line_order = order_truth.loc[order_truth.index.repeat(lines_per_order)].reset_index(drop=True)
    line_number = line_order.groupby("order_id").cumcount().to_numpy()
    first_product = np.repeat(rng.integers(0, 12, n_orders), lines_per_order)
    companion = rng.random(len(line_order)) < 0.7
    line_product = np.where(
        (line_number > 0) & companion, (first_product + line_number) % 12, rng.integers(0, 12, len(line_order))
    )
    line_product = np.where(line_number == 0, first_product, line_product)
    order_lines = pd.DataFrame(
        {
            "order_id": line_order["order_id"],
            "line_number": line_number + 1,
            "product_id": pd.Series(line_product).map("P{:02d}".format),
            "quantity": rng.integers(1, 5, len(line_order)).astype(float),
            "unit_price": np.round(50 + line_product * 10.0, 2),
            "line_amount": np.round(rng.uniform(10, 500, len(line_order)), 2),
            "_source_profile": line_order["source_profile"],
            "_loaded_at": SECOND_LOAD,
        }
    )

    # interactions, tickets (some still open long before as_of) and surveys on random records
    def record_sample(size: int) -> pd.DataFrame:
        return records.iloc[rng.integers(0, n_records, size)].reset_index(drop=True)

    touched = record_sample(3 * n_records)
    interactions = pd.DataFrame(
        {
            "interaction_id": pd.Series(np.arange(len(touched))).map("I{:06d}".format),
            "customer_id": touched["customer_id"],
            "occurred_at": _days(date(2023, 1, 1), rng.integers(0, 900, len(touched))),
            "interaction_type": rng.choice(["Call", "email", " visit ", "MEETING"], len(touched)),
            "channel": rng.choice(["phone", "email", "onsite"], len(touched)),
            "_source_profile": touched["source_profile"],
            "_loaded_at": SECOND_LOAD,
        }
    )
    ticketed = record_sample(n_records // 3)
    opened = _days(date(2024, 6, 1), rng.integers(0, 390, len(ticketed)))
    still_open = rng.random(len(ticketed)) < 0.3
    tickets = pd.DataFrame(
        {
            "ticket_id": pd.Series(np.arange(len(ticketed))).map("T{:05d}".format),
            "customer_id": ticketed["customer_id"],
            "opened_at": opened,
            "resolved_at": opened.where(still_open, opened + pd.Timedelta(days=3)).mask(still_open),
            "status": np.where(still_open, rng.choice(["Open", "pending"], len(ticketed)), "resolved"),
            "priority": rng.choice(["low", "Medium", "HIGH", "urgent"], len(ticketed)),
            "category": rng.choice(["billing", "delivery"], len(ticketed)),
            "_source_profile": ticketed["source_profile"],
            "_loaded_at": SECOND_LOAD,
        }
    )
    surveyed = record_sample(n_records // 2)
    surveys = pd.DataFrame(
        {
            "response_id": pd.Series(np.arange(len(surveyed))).map("R{:05d}".format),
            "customer_id": surveyed["customer_id"],
            "responded_at": _days(date(2024, 3, 1), rng.integers(0, 480, len(surveyed))),
            "nps_score": rng.integers(0, 11, len(surveyed)),
            "csat_score": rng.integers(1, 6, len(surveyed)),
            "comment": None,
            "_source_profile": surveyed["source_profile"],
            "_loaded_at": SECOND_LOAD,
        }
    )

    tables = {
        "customers": customers,
        "orders": orders,
        "order_lines": order_lines,
        "products": products,
        "interactions": interactions,
        "tickets": tickets,
        "surveys": surveys,
    }
    record_person = records[["source_profile", "customer_id", "person"]].reset_index(drop=True)
    return CrmFixture(tables=tables, record_person=record_person, order_truth=order_truth)


# ---------------------------------------------------------------------------------------------
# The build and its checks


@dataclass(frozen=True)
class BuiltWarehouse:
    database: Path
    fixture: CrmFixture
    run_results: dict


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    """A raw database from the fixture generator, built by a real `dbt build` as of AS_OF (CLV included)."""
    root = tmp_path_factory.mktemp("dbt_build")
    fixture = generate_crm_fixture()
    database = root / "warehouse" / "clientele.duckdb"
    write_raw_database(fixture.tables, database)
    run_results = dbt_build(root, database, AS_OF)
    return BuiltWarehouse(database=database, fixture=fixture, run_results=run_results)


def _query(warehouse: BuiltWarehouse, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse.database), read_only=True) as conn:
        return conn.execute(sql).df()


def _usd_rates() -> dict[str, float]:
    with open(DBT_PROJECT_DIR / "seeds" / "fx_rates.csv", encoding="utf-8") as fh:
        return {row["currency"]: float(row["rate_to_usd"]) for row in csv.DictReader(fh)}


def _expected_revenue_by_person(fixture: CrmFixture) -> pd.Series:
    """Completed orders on or before AS_OF in the reporting currency, per true person."""
    truth = fixture.order_truth
    rates = _usd_rates()
    counted = truth[(truth["status"] == "completed") & (truth["order_date"] <= AS_OF)]
    converted = (counted["amount"] * counted["currency"].map(rates) / rates[REPORTING_CURRENCY]).round(2)
    return converted.groupby(counted["person"]).sum()


def _customer_person(warehouse: BuiltWarehouse) -> pd.DataFrame:
    """customer_key -> true person, through the identity map."""
    identity = _query(warehouse, "select source_profile, customer_id, customer_key from marts.customer_identity_map")
    return identity.merge(warehouse.fixture.record_person, on=["source_profile", "customer_id"], how="left")


@pytest.mark.slow
def test_every_dbt_test_passes_and_only_orphan_orders_warn(warehouse: BuiltWarehouse):
    results = warehouse.run_results["results"]
    statuses = {r["unique_id"]: r["status"] for r in results}
    assert not [uid for uid, status in statuses.items() if status in ("error", "fail", "runtime error")]
    unit_tests = [uid for uid in statuses if uid.startswith("unit_test.")]
    assert len(unit_tests) >= 10
    warned = {r["unique_id"]: r["failures"] for r in results if r["status"] == "warn"}
    orphan_test = [uid for uid in warned if "relationships_stg_crm__orders_customer_record_key" in uid]
    assert len(orphan_test) == 1
    assert warned[orphan_test[0]] == (warehouse.fixture.tables["orders"]["customer_id"] == "GHOST").sum()


@pytest.mark.slow
def test_identity_resolution_recovers_the_true_people(warehouse: BuiltWarehouse):
    mapping = _customer_person(warehouse)
    assert mapping["person"].notna().all()
    assert len(mapping) == len(warehouse.fixture.record_person)
    # the same person never gets two keys and one key never spans two people: the partitions are equal
    assert (mapping.groupby("person")["customer_key"].nunique() == 1).all()
    assert (mapping.groupby("customer_key")["person"].nunique() == 1).all()
    records_per_person = warehouse.fixture.record_person.groupby("person").size()
    chained_people = records_per_person[records_per_person == 3].index
    assert len(chained_people) > 0
    chain_keys = mapping[mapping["person"].isin(chained_people)].groupby("person")["customer_key"].nunique()
    assert (chain_keys == 1).all()
    customers = _query(warehouse, "select customer_key, source_record_count, customer_name from marts.customers")
    assert len(customers) == warehouse.fixture.record_person["person"].nunique()
    merged = customers.set_index("customer_key")["source_record_count"]
    assert (merged == mapping.groupby("customer_key").size().reindex(merged.index)).all()
    # re-exported records: the latest version wins, so no stale name survives
    assert not customers["customer_name"].str.startswith("OLD ").any()


@pytest.mark.slow
def test_revenue_agrees_across_layers_and_with_the_truth(warehouse: BuiltWarehouse):
    customers = _query(warehouse, "select customer_key, lifetime_net_revenue from marts.customers")
    orders = _query(warehouse, "select customer_key, net_amount, order_date, is_completed from marts.orders")
    by_customer = orders.groupby("customer_key")["net_amount"].sum()
    revenue = customers.set_index("customer_key")["lifetime_net_revenue"].astype(float)
    assert np.allclose(revenue, by_customer.reindex(revenue.index).fillna(0).astype(float), atol=0.001)
    assert orders["order_date"].max().date() <= AS_OF

    expected = _expected_revenue_by_person(warehouse.fixture)
    person_of = _customer_person(warehouse).drop_duplicates("customer_key").set_index("customer_key")["person"]
    actual = revenue.groupby(person_of.reindex(revenue.index)).sum()
    expected = expected.reindex(actual.index).fillna(0)
    order_counts = warehouse.fixture.order_truth.groupby("person").size().reindex(actual.index).fillna(0)
    # each order is rounded to cents once; the conversion itself may round half-cents differently
    assert (np.abs(actual - expected) <= 0.01 * order_counts + 1e-9).all()

    truth = warehouse.fixture.order_truth
    assert len(orders) == int((truth["order_date"] <= AS_OF).sum())


@pytest.mark.slow
def test_segments_have_one_row_per_customer_and_consistent_tiers(warehouse: BuiltWarehouse):
    segments = _query(warehouse, "select * from marts.customer_segments")
    customers = _query(warehouse, "select customer_key, completed_order_count from marts.customers")
    assert len(segments) == segments["customer_key"].nunique() == len(customers)
    assert set(segments["as_of_date"].dt.date) == {AS_OF}

    completed = customers.set_index("customer_key")["completed_order_count"]
    never = segments.set_index("customer_key")["frequency_tier"] == "never_purchased"
    assert (completed.reindex(never.index)[never] == 0).all()
    assert (completed.reindex(never.index)[~never] > 0).all()
    prospects = segments.set_index("customer_key")["lifecycle_stage"] == "prospect"
    assert (prospects == never).all()

    # Pareto: tier A carries at least the A share of revenue, but not without its smallest member
    revenue = segments["trailing_12m_net_revenue"].astype(float)
    total = revenue.sum()
    tier_a = revenue[segments["value_tier"] == "A"]
    assert tier_a.sum() / total >= 0.70
    assert (tier_a.sum() - tier_a.min()) / total < 0.70
    assert (segments.loc[revenue <= 0, "value_tier"] == "none").all()
    assert segments["recommended_action"].notna().all()


@pytest.mark.slow
def test_clv_summary_matches_purchase_history(warehouse: BuiltWarehouse):
    clv = _query(
        warehouse,
        """
        select clv.*, customers.purchase_days, customers.first_purchase_date, customers.last_purchase_date
        from intermediate.int_customers_summarized_for_clv as clv
        inner join marts.customers using (customer_key)
        """,
    )
    purchasers = _query(warehouse, "select count(*) as n from marts.customers where purchase_days > 0")
    assert len(clv) == purchasers["n"].iloc[0]
    assert (clv["frequency"] == clv["purchase_days"] - 1).all()
    span = (clv["last_purchase_date"] - clv["first_purchase_date"]).dt.days
    assert (clv["recency"] == span).all()
    assert (clv["t"] == (pd.Timestamp(AS_OF) - clv["first_purchase_date"]).dt.days).all()
    assert (clv.loc[clv["frequency"] == 0, "monetary"] == 0).all()


@pytest.mark.slow
def test_clv_marts_join_the_calibration_set_and_feed_segments_and_risk(warehouse: BuiltWarehouse):
    scores = _query(warehouse, "select * from marts.customer_clv")
    calibration = _query(warehouse, "select customer_key, frequency from intermediate.int_customers_summarized_for_clv")
    assert set(scores["customer_key"]) == set(calibration["customer_key"])
    assert scores["clv"].map(float).map(np.isfinite).all()
    assert (scores["clv"].map(float) >= 0).all()
    assert set(scores["clv_method"]) <= {"bg_nbd_gamma_gamma", "mbg_nbd_gamma_gamma", "historical"}
    assert scores["churn_probability"].between(0, 1).all()
    segments = _query(warehouse, "select customer_key, clv_tier, churn_probability from marts.customer_segments")
    joined = segments.merge(scores, on="customer_key", how="left", suffixes=("", "_clv"))
    assert (joined["clv_tier"] == joined["clv_tier_clv"].fillna("none")).all()
    assert joined["churn_probability"].equals(joined["churn_probability_clv"])
    risk = _query(
        warehouse,
        """
        select risk.*, clv.churn_probability as clv_churn_probability, seg.trailing_12m_net_revenue
        from marts.churn_risk as risk
        inner join marts.customer_segments as seg using (customer_key)
        inner join marts.customer_clv as clv using (customer_key)
        """,
    )
    assert len(risk) > 0
    assert set(risk["lifecycle_stage"]) <= {"new", "active", "at_risk", "reactivated"}
    assert (risk["churn_probability"] == risk["clv_churn_probability"]).all()
    assert (risk["customer_value"] == risk["trailing_12m_net_revenue"]).all()
    expected_loss = (risk["churn_probability"] * risk["customer_value"].astype(float)).round(2)
    assert np.allclose(risk["expected_value_lost"].astype(float), expected_loss, atol=0.011)
    # listed for a likely churn or a severe reason; overdue or declining spend alone lists nobody
    assert (risk["is_churn_likely"] | risk["is_detractor"] | risk["has_unresolved_tickets"]).all()
    assert (risk["is_churn_likely"] == (risk["churn_probability"] > 0.7)).all()
    assert risk.sort_values("churn_risk_rank")["expected_value_lost"].is_monotonic_decreasing


def _truth_purchase_days(fixture: CrmFixture, start: date, end: date) -> pd.Series:
    """Distinct completed-order days in (start, end] per true person."""
    truth = fixture.order_truth
    window = truth[(truth["status"] == "completed") & (truth["order_date"] > start) & (truth["order_date"] <= end)]
    return window.groupby("person")["order_date"].nunique()


@pytest.mark.slow
def test_the_backtest_calibrates_on_the_state_known_at_its_calibration_date(
    warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory
):
    """The backtest's customers as of as_of - 90 days equal a build of the project as of that date (same
    macros, point in time), and their holdout purchase days are the true ones."""
    backtest = _query(warehouse, "select * from intermediate.int_customers_summarized_for_backtest")
    calibration_date = AS_OF - timedelta(days=90)
    assert set(backtest["calibration_date"].dt.date) == {calibration_date}

    root = tmp_path_factory.mktemp("dbt_build_at_calibration_date")
    database = root / "warehouse" / "clientele.duckdb"
    database.parent.mkdir()
    shutil.copy(warehouse.database, database)
    selection = ["+int_customers_summarized_for_clv", "+int_customers_lifecycle_staged", "+int_customers_value_tiered"]
    dbt_build(root, database, calibration_date, ["--select", *selection])
    with duckdb.connect(str(database), read_only=True) as conn:
        then = conn.execute(
            """
            select summary.*, lifecycle.lifecycle_stage, tiers.value_tier
            from intermediate.int_customers_summarized_for_clv as summary
            inner join intermediate.int_customers_lifecycle_staged as lifecycle using (customer_key)
            inner join intermediate.int_customers_value_tiered as tiers using (customer_key)
            """
        ).df()
    columns = ["frequency", "recency", "t", "monetary", "historical_revenue", "lifecycle_stage", "value_tier"]
    assert len(then) == len(backtest) > 0
    pd.testing.assert_frame_equal(
        backtest.set_index("customer_key")[columns].sort_index(),
        then.set_index("customer_key")[columns].sort_index(),
        check_dtype=False,
    )

    records = _query(
        warehouse,
        "select source_profile, customer_id, customer_key from intermediate.int_customer_records_resolved_for_backtest",
    )
    person_of = records.merge(warehouse.fixture.record_person, on=["source_profile", "customer_id"])
    person_of = person_of.drop_duplicates("customer_key").set_index("customer_key")["person"]
    expected = _truth_purchase_days(warehouse.fixture, calibration_date, AS_OF)
    actual = backtest.set_index("customer_key")["holdout_purchase_days"]
    expected = expected.reindex(person_of.reindex(actual.index)).fillna(0).to_numpy()
    assert actual.sum() > 0
    assert (actual.to_numpy() == expected).all()


@pytest.mark.slow
def test_model_backtest_reports_what_happened_per_stage_and_the_choice(warehouse: BuiltWarehouse):
    backtest = _query(warehouse, "select * from marts.model_backtest")
    customers = _query(warehouse, "select * from intermediate.int_customers_summarized_for_backtest")
    overall = backtest[backtest["model"].isna() & backtest["breakdown"].isna()].set_index("metric")["value"]
    assert overall["n_customers"] == len(customers)
    stages = backtest[backtest["model"].isna() & (backtest["breakdown"] == "lifecycle_stage")]
    shares = stages[stages["metric"] == "observed_purchase_share"].set_index("breakdown_value")["value"]
    expected = (customers["holdout_purchase_days"] > 0).groupby(customers["lifecycle_stage"]).mean()
    assert np.allclose(shares.sort_index(), expected.sort_index())
    # the fixture's buyers never leave, so neither purchase model identifies its dropout: no model is chosen,
    # customer_clv falls back and clv_model_fits says why the purchase model is BG/NBD
    assert not backtest["is_chosen"].any()
    reasons = _query(warehouse, "select distinct selection_reason from marts.clv_model_fits where model = 'bg_nbd'")
    assert reasons["selection_reason"].str.startswith("the backtest chose no model").all()
