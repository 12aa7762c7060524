"""Second records of one customer, which identity resolution has to merge.

Two kinds, as they happen in a CRM:
- webshop duplicates: the customer registers in the webshop, which creates a record sharing the e-mail or the
  phone number (in another spelling) from the start; some later orders are placed under it;
- later links: a sales rep enters the same person or account again without contact details; a later edit adds
  the e-mail or phone the first record has, so the two are one customer only from that version on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clientele_demo.context import Context
from clientele_demo.customers import first_version_time
from clientele_demo.formats import PHONE_STYLES
from clientele_demo.sampling import DAY_SECONDS, Table, size, take, uniform_between
from clientele_demo.vocabularies import LEAD_SOURCES

WEBSHOP_SHARE = 0.03
LATER_LINK_SHARE = 0.015  # of customers, per customer type
_COPIED_IDENTITY = ("company", "country", "city", "name_a", "name_b", "name_c", "industry", "email_domain")


@dataclass
class LaterLinks:
    """Record pairs (row indices into the chunk's customers) joined by a later version of `record`."""

    record: np.ndarray  # the second, later-created record
    target: np.ndarray  # the record whose e-mail or phone it gains
    by_email: np.ndarray  # bool per pair: linked by e-mail (else by phone)

    @property
    def rows(self) -> np.ndarray:
        return np.concatenate([self.record, self.target])


def plant_later_links(rng: np.random.Generator, customers: Table, ctx: Context) -> LaterLinks:
    """Make ~1.5% of records a second record of another customer of the same type, first without contact data.

    Runs before any behaviour is simulated, so the copy's orders are in the currency of its (copied) country.
    """
    count = size(customers)
    records, targets = [], []
    order = rng.permutation(count)
    for is_company in (True, False):
        group = order[customers["company"][order] == is_company]
        pairs = min(round(LATER_LINK_SHARE * group.size), group.size // 2)
        first, second = group[:pairs], group[pairs : 2 * pairs]
        later = customers["created"][second] > customers["created"][first]
        record, target = np.where(later, second, first), np.where(later, first, second)
        # The link is a later edit: the second record must leave room for it before the end.
        fits = customers["updated"][record] <= ctx.end_seconds - 2 * DAY_SECONDS
        records.append(record[fits])
        targets.append(target[fits])
    record, target = np.concatenate(records), np.concatenate(targets)
    for column in _COPIED_IDENTITY:
        customers[column][record] = customers[column][target]
    customers["email_number"][record] = customers["number"][target]
    customers["national"][record] = customers["national"][target]
    customers["has_email"][target] = customers["has_phone"][target] = True
    customers["has_email"][record] = customers["has_phone"][record] = False
    return LaterLinks(record=record, target=target, by_email=rng.random(record.size) < 0.6)


def webshop_duplicates(
    rng: np.random.Generator, customers: Table, orders: Table, excluded: np.ndarray, ctx: Context
) -> tuple[Table, dict[str, int], np.ndarray]:
    """~3% of customers get a second (webshop) record sharing the e-mail or the phone number.

    Returns the webshop records, their counts, and the rows of the customers they duplicate. Orders placed
    under a webshop record are re-pointed in `orders` (`customer_number`, `customer_webshop`).
    """
    count = size(customers)
    eligible = customers["has_email"] & customers["has_phone"] & ~excluded
    probability = min(1.0, WEBSHOP_SHARE * count / max(int(eligible.sum()), 1))
    chosen = np.flatnonzero(eligible & (rng.random(count) < probability))
    by_email = rng.random(chosen.size) < 0.6
    dup = take(customers, chosen)
    start = ctx.counters["webshop"]
    dup["number"] = np.arange(start + 1, start + 1 + chosen.size, dtype=np.int64)
    ctx.counters["webshop"] += chosen.size
    dup["webshop"][:] = True
    dup["has_phone"] = ~by_email
    dup["has_email"] = by_email
    dup["email_case"] = np.where(rng.random(chosen.size) < 0.5, 1, 2).astype(np.int8)
    dup["email_padded"] = rng.random(chosen.size) < 0.5
    other_styles = (ctx.layout.phone_style + rng.integers(1, len(PHONE_STYLES), chosen.size)) % len(PHONE_STYLES)
    dup["phone_style"] = other_styles.astype(np.int8)
    dup["owner"] = np.full(chosen.size, -1)
    dup["lead_source"] = np.full(chosen.size, len(LEAD_SOURCES))  # Webshop
    dup["created"] = uniform_between(rng, customers["created"][chosen], np.full(chosen.size, ctx.end_seconds - 7200))
    dup["updated"] = first_version_time(rng, dup["created"], ctx.end_seconds)
    # Some later orders (never the first) were placed through the webshop account.
    dup_of_customer = np.full(count, -1)
    dup_of_customer[chosen] = np.arange(chosen.size)
    link = dup_of_customer[orders["customer"]]
    first_of_customer = np.r_[True, orders["customer"][1:] != orders["customer"][:-1]]
    moved = (link >= 0) & ~first_of_customer & (rng.random(link.size) < 0.7)
    if chosen.size:
        moved &= orders["time"] >= dup["updated"][np.maximum(link, 0)]
        orders["customer_number"] = np.where(moved, dup["number"][np.maximum(link, 0)], orders["customer_number"])
    orders["customer_webshop"] = moved
    stats = {
        "records": int(chosen.size),
        "matched_by_email": int(by_email.sum()),
        "matched_by_phone": int((~by_email).sum()),
        "orders_under_duplicate_id": int(moved.sum()),
    }
    return dup, stats, chosen
