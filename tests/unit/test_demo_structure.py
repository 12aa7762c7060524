"""The demo customers differ the way real ones do, so every customer classification has all its values: category
tastes and categories bought together, discount hunters and premium buyers, service-heavy and silent customers,
favourite contact channels, their own hours and days to order, places across China and abroad, and dropout."""

from __future__ import annotations

import csv
import statistics
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal
from itertools import combinations

import pytest

from clientele_demo.vocabularies import CHINA_CITIES, CURRENCIES, RATE_TO_USD
from orchestration.lib.settings import DBT_PROJECT_DIR
from tests.unit.demo_exports import CUSTOMERS, END, as_decimal, parse_date, parse_time, records_of

SEEDS = DBT_PROJECT_DIR / "seeds"
PROVINCE_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "省", "市")


def _seed(name: str) -> list[dict[str, str]]:
    with open(SEEDS / f"{name}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _short_province(name: str) -> str:
    return next((name.removesuffix(suffix) for suffix in PROVINCE_SUFFIXES if name.endswith(suffix)), name)


@pytest.fixture(scope="module")
def generic(demo_exports):
    out, manifest = demo_exports["generic", False]
    return {
        entity: records_of(out, manifest, entity)
        for entity in ("customers", "orders", "order_lines", "products", "interactions", "tickets")
    }


def test_currencies_and_cities_agree_with_the_seeds():
    rates = {row["currency"]: Decimal(row["rate_to_usd"]) for row in _seed("fx_rates")}
    generated = {currency: Decimal(str(rate)) for currency, rate in zip(CURRENCIES, RATE_TO_USD, strict=True)}
    assert generated == {currency: rates[currency] for currency in CURRENCIES}
    listed = {row["city_name_zh"]: row for row in _seed("city_tiers")}
    for city in CHINA_CITIES:
        if city.city_zh in listed:
            row = listed[city.city_zh]
            assert (row["city_name_en"], row["province"], row["city_tier"]) == (
                city.city_en,
                _short_province(city.province_zh),
                city.tier,
            ), city
        else:
            assert city.tier == "tier_3_plus", city
    provinces_by_english_name = defaultdict(set)
    for city in CHINA_CITIES:
        provinces_by_english_name[city.city_en].add(city.province_en)
    assert any(len(provinces) > 1 for provinces in provinces_by_english_name.values())


def test_categories_have_fans_and_are_bought_together(generic):
    category_of = {p["product_id"]: p["category"] for p in generic["products"]}
    baskets = defaultdict(set)
    for line in generic["order_lines"]:
        baskets[line["order_id"]].add(category_of[line["product_id"]])
    orders = len(baskets)
    singles = Counter(category for basket in baskets.values() for category in basket)
    pairs = Counter(pair for basket in baskets.values() for pair in combinations(sorted(basket), 2))
    lifts = {pair: count * orders / (singles[pair[0]] * singles[pair[1]]) for pair, count in pairs.items()}
    assert sum(lift > 1.25 and pairs[pair] >= 50 for pair, lift in lifts.items()) >= 5
    assert sum(lift < 1 for lift in lifts.values()) >= 5  # the rest co-occur less than chance

    buyer = {o["order_id"]: o["customer_id"] for o in generic["orders"]}
    tastes = defaultdict(Counter)
    for line in generic["order_lines"]:
        tastes[buyer[line["order_id"]]][category_of[line["product_id"]]] += 1
    overall = Counter()
    for taste in tastes.values():
        overall.update(taste)
    top_share = [max(t.values()) / sum(t.values()) for t in tastes.values() if sum(t.values()) >= 20]
    assert statistics.mean(top_share) > 2 * max(overall.values()) / sum(overall.values())


def test_some_customers_buy_at_discounts_and_some_above_list_price(generic):
    list_price = {p["product_id"]: as_decimal(p["list_price"]) for p in generic["products"]}
    in_cny = {o["order_id"]: o["customer_id"] for o in generic["orders"] if o["currency"] == "CNY"}
    kinds = Counter()
    by_customer = defaultdict(Counter)
    for line in generic["order_lines"]:
        if line["order_id"] not in in_cny:
            continue
        price, listed = as_decimal(line["unit_price"]), list_price[line["product_id"]]
        kind = "discount" if price < listed else "list" if price == listed else "premium"
        kinds[kind] += 1
        by_customer[in_cny[line["order_id"]]][kind] += 1
    assert min(kinds.values()) > 0.05 * sum(kinds.values())
    frequent = [c for c in by_customer.values() if sum(c.values()) >= 10]
    for kind, share in (("discount", 0.7), ("list", 0.8), ("premium", 0.4)):
        assert sum(c[kind] >= share * sum(c.values()) for c in frequent) >= 10, kind


def test_service_and_engagement_differ_between_customers(generic):
    ids = [c["customer_id"] for c in generic["customers"]]
    tickets = Counter(t["customer_id"] for t in generic["tickets"])
    assert sum(tickets[i] == 0 for i in ids) > 0.5 * CUSTOMERS
    assert sum(tickets[i] >= 5 for i in ids) >= 10
    touches = Counter(i["customer_id"] for i in generic["interactions"])
    none = sum(touches[i] == 0 for i in ids)
    assert 0.08 * CUSTOMERS < none < 0.35 * CUSTOMERS  # most customers are in touch, some never
    assert sum(touches[i] >= 10 for i in ids) >= 20
    channels = defaultdict(Counter)
    for interaction in generic["interactions"]:
        channels[interaction["customer_id"]][interaction["channel"]] += 1
    overall = Counter(i["channel"] for i in generic["interactions"])
    favourite_share = [max(c.values()) / sum(c.values()) for c in channels.values() if sum(c.values()) >= 6]
    assert statistics.mean(favourite_share) > 1.5 * max(overall.values()) / sum(overall.values())
    assert len({max(c, key=c.get) for c in channels.values() if sum(c.values()) >= 6}) >= 4


def test_customers_order_at_their_own_hours_and_days(generic):
    china_times = defaultdict(list)
    for order in generic["orders"]:
        china_times[order["customer_id"]].append(parse_time(order["ordered_at"], "generic") + timedelta(hours=8))
    frequent = [times for times in china_times.values() if len(times) >= 10]
    weekend_share = [sum(t.weekday() >= 5 for t in times) / len(times) for times in frequent]
    assert sum(share >= 0.6 for share in weekend_share) >= 10
    assert sum(share <= 0.05 for share in weekend_share) >= 10
    typical_hour = [statistics.median(t.hour for t in times) for times in frequent]
    assert sum(hour < 12 for hour in typical_hour) >= 10
    assert sum(hour >= 19 for hour in typical_hour) >= 10


def test_customers_live_across_chinese_provinces_and_abroad(demo_exports):
    out, manifest = demo_exports["fxiaoke", False]
    customers = records_of(out, manifest, "customers")
    chinese = [c for c in customers if c["country"] == "中国"]
    assert len({c["province"] for c in chinese}) >= 20
    assert len({c["country"] for c in customers} - {"中国"}) >= 5
    assert 0.05 * len(customers) < len(customers) - len(chinese) < 0.3 * len(customers)
    listed = {row["city_name_zh"]: row["province"] for row in _seed("city_tiers")}
    for customer in chinese:
        city = customer["city"].removesuffix("市")
        if city in listed:
            assert _short_province(customer["province"]) == listed[city], customer
    # a few persons never gave an address at all: they can be placed nowhere (market and city tier unknown)
    addressless = [c for c in customers if not c["country"]]
    assert 0 < len(addressless) < 0.1 * len(customers)
    assert all(not c["province"] and not c["city"] for c in addressless)


def test_every_province_spelling_of_the_demo_is_in_the_provinces_seed():
    provinces = {row["province_alias"]: row["province"] for row in _seed("provinces")}
    for city in CHINA_CITIES:
        assert provinces[city.province_zh] == provinces[city.province_en] == _short_province(city.province_zh), city


def test_customers_really_stop_buying(generic):
    dates = defaultdict(list)
    for order in generic["orders"]:
        dates[order["customer_id"]].append(parse_date(order["order_date"]))
    veterans = [d for d in dates.values() if min(d) < END - timedelta(days=2 * 365) and len(d) >= 3]
    lapsed = [d for d in veterans if max(d) < END - timedelta(days=365)]
    assert len(veterans) > 50 and 0.1 * len(veterans) < len(lapsed) < 0.9 * len(veterans)
