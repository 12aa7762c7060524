"""Touches between the company and its customers: interactions (leads too), support tickets, survey answers."""

from __future__ import annotations

import numpy as np

from clientele_demo.context import Context
from clientele_demo.sampling import DAY_SECONDS, HOUR, Table, uniform_between, weighted
from clientele_demo.vocabularies import (
    INTERACTION_TYPE_WEIGHTS,
    INTERACTION_TYPES,
    ON_SITE,
    SURVEY_COMMENTS,
    TICKET_CATEGORIES,
    TICKET_PRIORITY_WEIGHTS,
    numeric_column,
)

_MEETING = INTERACTION_TYPES.index("meeting")


def simulate_interactions(
    rng: np.random.Generator, customers: Table, traits: Table, orders_per_customer: np.ndarray, ctx: Context
) -> Table:
    """Calls, e-mails, visits, meetings and messages: more for engaged, buying and service-heavy customers.

    Each customer mostly uses a favourite type (so a favourite channel); the rest follow the usual mix.
    """
    company = customers["company"]
    rate = (
        traits["engagement"]
        * (2.4 + 0.08 * orders_per_customer)
        * np.where(company, 1.25, 0.9)
        * (0.75 + 0.25 * traits["service"])  # support follow-ups
    )
    per_customer = rng.poisson(rate)
    customer = np.repeat(np.arange(company.size), per_customer)
    n = customer.size
    time = uniform_between(rng, customers["created"][customer], np.full(n, ctx.end_seconds))
    allowed = ctx.interaction_types
    usual = np.where(
        company[customer],
        allowed[weighted(rng, np.asarray(INTERACTION_TYPE_WEIGHTS["company"])[allowed], n)],
        allowed[weighted(rng, np.asarray(INTERACTION_TYPE_WEIGHTS["person"])[allowed], n)],
    )
    kind = np.where(rng.random(n) < 0.65, traits["favourite_interaction"][customer], usual)
    # The channel follows the type (call -> phone, ...); meetings are on site or by video, as the customer likes.
    on_site = (kind == _MEETING) & (rng.random(n) < traits["on_site_share"][customer])
    return {
        "customer_number": customers["number"][customer],
        "time": time,
        "type": kind,
        "channel": np.where(on_site, ON_SITE, kind),
    }


def simulate_tickets(
    rng: np.random.Generator,
    customers: Table,
    traits: Table,
    orders_per_customer: np.ndarray,
    first_bought: np.ndarray,
    purchaser: np.ndarray,
    ctx: Context,
) -> Table:
    """Support tickets of buyers: more with more orders, less satisfaction and a greater need for service.

    `resolved` is the resolution time (or -1 while open); the status is the one at the end of the history.
    """
    end_seconds = ctx.end_seconds
    rate = np.where(
        purchaser, 0.06 * orders_per_customer * np.exp(-0.35 * traits["satisfaction"]) * traits["service"], 0.0
    )
    customer = np.repeat(np.arange(rate.size), rng.poisson(rate))
    n = customer.size
    opened = uniform_between(rng, first_bought[customer], np.full(n, end_seconds))
    resolution = (rng.exponential(36 * HOUR, n) + 600).astype(np.int64)
    recent = opened > end_seconds - 3 * DAY_SECONDS
    status = np.where(recent, weighted(rng, (0.4, 0.3, 0.2, 0.1), n), weighted(rng, (0.05, 0.05, 0.6, 0.3), n))
    resolved = opened + resolution
    status = np.where((status >= 2) & (resolved > end_seconds), 1, status)  # not resolved yet: pending
    return {
        "customer_number": customers["number"][customer],
        "opened": opened,
        "resolved": np.where(status >= 2, resolved, -1),
        "status": status,
        "priority": weighted(rng, TICKET_PRIORITY_WEIGHTS, n),
        "category": weighted(rng, numeric_column(TICKET_CATEGORIES, 2), n),
    }


def simulate_surveys(
    rng: np.random.Generator,
    customers: Table,
    traits: Table,
    first_bought: np.ndarray,
    purchaser: np.ndarray,
    ctx: Context,
) -> Table:
    """NPS / CSAT answers of buyers, scored by their satisfaction, some with a comment in tune with it."""
    count = purchaser.size
    customer = np.repeat(np.arange(count), np.where(purchaser, rng.poisson(0.375, count), 0))
    n = customer.size
    time = uniform_between(rng, first_bought[customer], np.full(n, ctx.end_seconds))
    mood = traits["satisfaction"][customer]
    nps = np.clip(np.round(7.2 + 2.2 * mood + rng.normal(0, 1.2, n)), 0, 10).astype(np.int64)
    csat = np.clip(np.round(3.9 + 0.8 * mood + rng.normal(0, 0.6, n)), 1, 5).astype(np.int64)
    which = rng.random(n)
    nps = np.where(which < 0.15, -1, nps)
    csat = np.where(which > 0.85, -1, csat)
    band = np.where(mood < -0.6, 0, np.where(mood < 0.4, 1, 2))
    comment = np.full(n, -1)
    comments_by_band = [np.flatnonzero(numeric_column(SURVEY_COMMENTS, 2) == b) for b in range(3)]
    for b, members in enumerate(comments_by_band):
        rows = (band == b) & (rng.random(n) < 0.45)
        comment[rows] = members[rng.integers(0, members.size, int(rows.sum()))]
    return {
        "customer_number": customers["number"][customer],
        "time": time,
        "nps": nps,
        "csat": csat,
        "comment": comment,
    }
