"""The demo exports' history is coherent, as a CRM's nightly incremental exports make it: main files hold each
record as first saved, changes files its later versions (each later than the one before, one change each),
nothing is dated after the end, and records merge by a shared e-mail or phone only from the version adding it."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from itertools import pairwise

import pytest

from orchestration.lib.schema import load_profiles
from tests.unit.demo_exports import (
    CUSTOMERS,
    END,
    PROFILES,
    as_decimal,
    local_date,
    parse_date,
    parse_time,
    phone_digits,
    records_of,
)

KEYS = {"customers": "customer_id", "orders": "order_id"}
CUSTOMER_CHANGES = {"owner", "lead_source", "industry", "email", "phone"}
EARLIEST = END - timedelta(days=4 * 365 + 2)


@pytest.fixture(scope="module", params=PROFILES)
def clean(request, demo_exports):
    out, manifest = demo_exports[request.param, False]
    return request.param, out, manifest


def _versions(out, manifest, entity: str) -> dict[str, list[dict[str, str]]]:
    """Every version of each record, main file first, then the changes file in time order."""
    profile = manifest.profile
    versions = {r[KEYS[entity]]: [r] for r in records_of(out, manifest, entity)}
    changes = records_of(out, manifest, entity, "changed_records")
    for change in sorted(changes, key=lambda r: parse_time(r["updated_at"], profile)):
        versions[change[KEYS[entity]]].append(change)  # KeyError: a version of a record never exported first
    return versions


def test_first_versions_are_saved_when_the_record_is_made(clean):
    profile, out, manifest = clean
    for purpose in ("main", "identity_duplicates"):
        for record in records_of(out, manifest, "customers", purpose):
            created, saved = parse_time(record["created_at"], profile), parse_time(record["updated_at"], profile)
            assert created <= saved < created + timedelta(hours=1), record
            assert local_date(saved, profile) == local_date(created, profile), record
    for order in records_of(out, manifest, "orders"):
        assert local_date(parse_time(order["updated_at"], profile), profile) == parse_date(order["order_date"])


@pytest.mark.parametrize("entity", ["customers", "orders"])
def test_later_versions_follow_their_record_in_time_and_change_one_thing(clean, entity):
    profile, out, manifest = clean
    changed_columns = Counter()
    for key, versions in _versions(out, manifest, entity).items():
        times = [parse_time(v["updated_at"], profile) for v in versions]
        assert times == sorted(times) and len(set(times)) == len(times), key  # strictly later, never tied
        assert local_date(times[-1], profile) <= END
        for before, after in pairwise(versions):
            differing = {column for column in after if after[column] != before[column]} - {"updated_at"}
            assert len(differing) == 1, (key, differing)
            changed_columns[differing.pop()] += 1
        if entity == "customers":
            assert parse_time(versions[0]["created_at"], profile) <= times[0]
            assert len(versions) <= 4  # the first and up to three later versions
    versions_by_change = manifest.history[entity]["versions_by_change"]
    if entity == "customers":
        assert set(changed_columns) <= CUSTOMER_CHANGES
        for column in ("owner", "lead_source", "industry"):
            assert changed_columns[column] == versions_by_change[column] > 0
        contact = versions_by_change["email"] + versions_by_change["phone"] + versions_by_change["identity_link"]
        assert changed_columns["email"] + changed_columns["phone"] == contact
    else:
        assert set(changed_columns) == {"status", "amount"}
        assert changed_columns["amount"] == versions_by_change["amount_corrected"] > 0
        assert changed_columns["status"] == versions_by_change["cancelled"] + versions_by_change["refunded"]
    assert sum(changed_columns.values()) == manifest.changed_records[entity]


def test_a_realistic_share_of_records_has_later_versions_spread_over_the_history(clean):
    profile, out, manifest = clean
    customers = _versions(out, manifest, "customers")
    with_later = [versions for versions in customers.values() if len(versions) > 1]
    assert len(with_later) == manifest.history["customers"]["customers_with_later_versions"]
    assert 0.10 * CUSTOMERS < len(with_later) < 0.25 * CUSTOMERS
    assert {len(versions) - 1 for versions in with_later} == {1, 2, 3}
    years = Counter(parse_time(v["updated_at"], profile).year for versions in with_later for v in versions[1:])
    assert len(years) >= 4 and max(years.values()) < 0.6 * sum(years.values())

    orders = _versions(out, manifest, "orders")
    changed = [versions for versions in orders.values() if len(versions) > 1]
    assert len(changed) == manifest.history["orders"]["orders_with_later_versions"]
    assert 0.03 * len(orders) < len(changed) < 0.15 * len(orders)
    canonical = load_profiles()[profile].entities["orders"].value_maps.get("status", {})
    finals = Counter(canonical.get(versions[-1]["status"], versions[-1]["status"]) for versions in changed)
    counts = manifest.history["orders"]["versions_by_change"]
    assert finals == {
        "completed": counts["amount_corrected"],
        "cancelled": counts["cancelled"],
        "refunded": counts["refunded"],
    }
    assert min(counts.values()) > 0
    for versions in changed:
        first, last = versions[0], versions[-1]
        assert (last["order_date"], last["ordered_at"], last["customer_id"]) == (
            first["order_date"],
            first["ordered_at"],
            first["customer_id"],
        )
        if last["amount"] != first["amount"]:
            assert as_decimal(last["amount"]) > 0


def _identifiers(record: dict[str, str]) -> set[str]:
    found = set()
    if record["email"].strip():
        found.add("email:" + record["email"].strip().lower())
    if record["phone"].strip():
        found.add("phone:" + phone_digits(record["phone"])[-10:])
    return found


def test_records_merge_only_through_webshop_twins_and_later_versions(clean):
    profile, out, manifest = clean
    customers = _versions(out, manifest, "customers")
    twins = records_of(out, manifest, "customers", "identity_duplicates")
    holders: dict[str, set[str]] = defaultdict(set)
    for key, versions in customers.items():
        for version in versions:
            for identifier in _identifiers(version):
                holders[identifier].add(key)
    for twin in twins:
        for identifier in _identifiers(twin):
            holders[identifier].add(twin["customer_id"])
    shared = {identifier: keys for identifier, keys in holders.items() if len(keys) > 1}
    assert all(len(keys) == 2 for keys in shared.values())
    twin_ids = {t["customer_id"] for t in twins}
    by_twin = [keys for keys in shared.values() if keys & twin_ids]
    later = {identifier: keys for identifier, keys in shared.items() if not keys & twin_ids}
    stats = manifest.identity_duplicates
    assert len(by_twin) == stats["records"]  # each webshop twin shares exactly one identifier
    assert len(later) == stats["linked_later"] > 0
    assert Counter(identifier.split(":")[0] for identifier in later) == {
        "email": stats["linked_later_by_email"],
        "phone": stats["linked_later_by_phone"],
    }
    for identifier, keys in later.items():
        # One record had it from the start; the other first shows it in a later version, after both existed.
        firsts = {key: identifier in _identifiers(customers[key][0]) for key in keys}
        assert sorted(firsts.values()) == [False, True], identifier
        original = next(key for key, first in firsts.items() if first)
        second = next(key for key, first in firsts.items() if not first)
        assert not _identifiers(customers[second][0])  # entered without contact details
        assert customers[second][0]["customer_name"] == customers[original][0]["customer_name"]
        joined = next(v for v in customers[second] if identifier in _identifiers(v))
        joined_at = parse_time(joined["updated_at"], profile)
        assert joined_at > parse_time(customers[original][0]["created_at"], profile)
        assert joined_at > parse_time(customers[second][0]["updated_at"], profile)


def test_everything_dated_lies_in_the_history_and_after_its_customer_was_saved(clean):
    profile, out, manifest = clean
    saved = {}
    for purpose in ("main", "identity_duplicates"):
        for record in records_of(out, manifest, "customers", purpose):
            saved[record["customer_id"]] = local_date(parse_time(record["updated_at"], profile), profile)
    for purpose in ("main", "identity_duplicates", "changed_records"):
        for record in records_of(out, manifest, "customers", purpose):
            for column in ("created_at", "updated_at"):
                assert EARLIEST <= local_date(parse_time(record[column], profile), profile) <= END
    dated = {"orders": "order_date", "interactions": "occurred_at", "tickets": "opened_at", "surveys": "responded_at"}
    for entity, column in dated.items():
        for record in records_of(out, manifest, entity):
            day = parse_date(record[column]) or local_date(parse_time(record[column], profile), profile)
            assert saved[record["customer_id"]] <= day <= END, (entity, record)
    for ticket in records_of(out, manifest, "tickets"):
        # resolved_at is when it was resolved: a ticket resolved after some date was open on it
        if ticket["resolved_at"]:
            resolved = parse_time(ticket["resolved_at"], profile)
            assert parse_time(ticket["opened_at"], profile) < resolved and local_date(resolved, profile) <= END
