"""Later versions of records, as a CRM's nightly incremental exports carry them.

The main exports hold every record as first saved; the changes exports hold each later state of a record
in full, with the time it was saved (`updated`), strictly after the previous state and never after the end:
- customers: ~12% of persons and ~20% of accounts get 1-3 later versions spread over their history (owner
  reassigned, lead source or industry corrected, a new or first e-mail or phone), and every later-linked
  record (identity.plant_later_links) one version adding the other record's e-mail or phone;
- orders: a few percent are cancelled (within hours to days), refunded (days to weeks) or have their amount
  corrected, as versions dated when that happened; what would happen after the end has not happened yet.
"""

from __future__ import annotations

import numpy as np

from clientele_demo.context import Context
from clientele_demo.customers import email_domain_count, phone_numbers
from clientele_demo.identity import LaterLinks
from clientele_demo.sampling import (
    DAY_SECONDS,
    HOUR,
    Table,
    concat,
    segment_starts,
    size,
    take,
    uniform_between,
    weighted,
    weighted_rows,
)
from clientele_demo.vocabularies import CANCELLED, CHINA, COMPLETED, INDUSTRIES, JPY, LEAD_SOURCES, OWNERS, REFUNDED

CUSTOMER_CHANGES = ("owner", "lead_source", "industry", "email", "phone")
_CUSTOMER_CHANGE_WEIGHTS = np.array([0.40, 0.15, 0.10, 0.18, 0.17])
_OWNER, _LEAD_SOURCE, _INDUSTRY, _EMAIL, _PHONE = range(len(CUSTOMER_CHANGES))
ORDER_CHANGES = ("cancelled", "refunded", "amount_corrected")


def _other(rng: np.random.Generator, current: np.ndarray, choices: np.ndarray | int) -> np.ndarray:
    """A different value among `choices` (per row) than `current`."""
    choices = np.broadcast_to(np.asarray(choices), current.shape)
    return (current + 1 + (rng.random(current.size) * (choices - 1)).astype(np.int64)) % choices


def customer_versions(
    rng: np.random.Generator, customers: Table, links: LaterLinks, identity_fixed: np.ndarray, ctx: Context
) -> tuple[Table, dict]:
    """Later versions of the chunk's customers and their counts by change.

    `identity_fixed` marks records whose e-mail and phone must stay (they link to another record).
    """
    count = size(customers)
    company = customers["company"]
    china = customers["country"] == CHINA
    end = ctx.end_seconds
    linked = np.zeros(count, bool)
    linked[links.record] = True
    wanted = np.where(rng.random(count) < np.where(company, 0.20, 0.12), 1 + weighted(rng, (0.6, 0.28, 0.12), count), 0)
    room = (end - customers["updated"]) // (2 * HOUR)  # versions at least an hour apart, after the first
    versions = np.where(linked, 0, np.minimum(wanted, room))
    holders = np.flatnonzero(versions > 0)
    per_holder = versions[holders]
    starts = segment_starts(per_holder)
    holder_of = np.repeat(np.arange(holders.size), per_holder)
    step = np.arange(holder_of.size) - starts[holder_of]
    # Times: sorted uniform points on the rest of the history, kept an hour apart.
    spread = np.sort(holder_of + rng.random(holder_of.size)) - holder_of
    first = customers["updated"][holders][holder_of]
    slack = end - first - HOUR * (per_holder[holder_of] + 1)
    times = first + HOUR * (step + 1) + (spread * slack).astype(np.int64)

    weights = np.broadcast_to(_CUSTOMER_CHANGE_WEIGHTS, (holder_of.size, len(CUSTOMER_CHANGES))).copy()
    weights[~company[holders][holder_of], _INDUSTRY] = 0
    weights[identity_fixed[holders][holder_of], _EMAIL] = 0
    weights[identity_fixed[holders][holder_of], _PHONE] = 0
    change = weighted_rows(rng, weights, np.arange(holder_of.size))

    state = take(customers, holders)
    serial = np.zeros(holders.size, np.int64)  # how many times the phone number changed
    snapshots = []
    for position in range(int(per_holder.max(initial=0))):
        active = np.flatnonzero(per_holder > position)
        kind = change[starts[active] + position]
        _apply(rng, state, serial, active, kind, company[holders], china[holders])
        snapshot = take(state, active)
        snapshot["updated"] = times[starts[active] + position]
        snapshots.append(snapshot)

    linking = take(customers, links.record)
    linking["has_email"], linking["has_phone"] = links.by_email, ~links.by_email
    linking["updated"] = uniform_between(rng, linking["updated"] + HOUR, np.full(links.record.size, end))
    snapshots.append(linking)
    by_change = {name: int((change == index).sum()) for index, name in enumerate(CUSTOMER_CHANGES)}
    counts = {
        "customers_with_later_versions": int(holders.size + links.record.size),
        "versions_by_change": {**by_change, "identity_link": int(links.record.size)},
    }
    return concat(snapshots), counts


def _apply(
    rng: np.random.Generator,
    state: Table,
    serial: np.ndarray,
    active: np.ndarray,
    kind: np.ndarray,
    company: np.ndarray,
    china: np.ndarray,
) -> None:
    """Change one attribute of each active record (rows of `state`), in place."""
    rows = active[kind == _OWNER]
    state["owner"][rows] = _other(rng, state["owner"][rows], len(OWNERS))
    rows = active[kind == _LEAD_SOURCE]
    state["lead_source"][rows] = _other(rng, state["lead_source"][rows], len(LEAD_SOURCES))
    rows = active[kind == _INDUSTRY]
    state["industry"][rows] = _other(rng, state["industry"][rows], len(INDUSTRIES))
    # A new address at another domain (role mailbox for accounts), or the first address the record gets.
    rows = active[kind == _EMAIL]
    had = state["has_email"][rows]
    domains = email_domain_count(company[rows], china[rows])
    state["email_domain"][rows] = np.where(
        had, _other(rng, state["email_domain"][rows], domains), state["email_domain"][rows]
    )
    state["has_email"][rows] = True
    # A new number (never anyone else's), or the first number the record gets.
    rows = active[kind == _PHONE]
    had = state["has_phone"][rows]
    serial[rows] += had
    new_numbers = phone_numbers(state["number"][rows], serial[rows], china[rows])
    state["national"][rows] = np.where(had, new_numbers, state["national"][rows])
    state["has_phone"][rows] = True


def order_versions(rng: np.random.Generator, orders: Table, ctx: Context) -> tuple[Table, dict, np.ndarray]:
    """Later versions of the chunk's orders, their counts by change, and the rows of the orders they change."""
    n = size(orders)
    kind = weighted(rng, (0.915, 0.04, 0.03, 0.015), n)  # none, cancelled, refunded, amount corrected
    delay = np.select(
        [kind == 1, kind == 2, kind == 3],
        [
            600 + rng.exponential(20 * HOUR, n),
            2 * DAY_SECONDS + rng.exponential(10 * DAY_SECONDS, n),
            1800 + rng.exponential(1.5 * DAY_SECONDS, n),
        ],
        0,
    ).astype(np.int64)
    when = orders["updated"] + delay
    rows = np.flatnonzero((kind > 0) & (when <= ctx.end_seconds))
    kind = kind[rows]
    changed = take(orders, rows)
    changed["updated"] = when[rows]
    changed["status"] = np.select([kind == 1, kind == 2], [CANCELLED, REFUNDED], COMPLETED)
    factor = np.where(
        rng.random(rows.size) < 0.6, 1 - rng.uniform(0.03, 0.15, rows.size), 1 + rng.uniform(0.02, 0.10, rows.size)
    )
    amount = changed["amount"]
    corrected = np.round(amount * factor).astype(np.int64)
    corrected = np.where(changed["currency"] == JPY, np.round(corrected / 100).astype(np.int64) * 100, corrected)
    corrected = np.where(corrected == amount, amount + 100, np.maximum(corrected, 100))
    changed["amount"] = np.where(kind == 3, corrected, amount)
    counts = {
        "orders_with_later_versions": int(rows.size),
        "versions_by_change": {name: int((kind == index + 1).sum()) for index, name in enumerate(ORDER_CHANGES)},
    }
    return changed, counts, rows
