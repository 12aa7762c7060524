"""Orders and order lines: when customers buy (BG/NBD), at which hour and day of the week, what, at what price.

Every order is recorded as completed on the day it was placed (later cancellations, refunds and corrections
are versions, see history.py).
"""

from __future__ import annotations

import numpy as np

from clientele_demo.catalogue import companion_weights, pick_products
from clientele_demo.context import Context
from clientele_demo.sampling import (
    DAY_SECONDS,
    HOUR,
    Table,
    end_of_day,
    segment_starts,
    size,
    weighted_rows,
)
from clientele_demo.vocabularies import (
    CHANNELS,
    CNY_PER_UNIT,
    COMPLETED,
    COUNTRIES,
    CURRENCIES,
    JPY,
    PRODUCT_CATEGORIES,
    USD,
    numeric_column,
)

MAX_LINES = 12
_CATEGORY_WEIGHTS = np.vstack([numeric_column(PRODUCT_CATEGORIES, 4), numeric_column(PRODUCT_CATEGORIES, 5)])
BARGAIN, LIST_PRICE, PREMIUM = range(3)  # price classes of customers.draw_traits


def place_orders(
    rng: np.random.Generator, customers: Table, traits: Table, ctx: Context
) -> tuple[Table, np.ndarray, np.ndarray]:
    """Orders sorted by customer and time, who bought at all, and when each customer first bought."""
    count = size(customers)
    created, end_seconds = customers["created"], ctx.end_seconds
    lag = np.where(rng.random(count) < 0.4, 0, rng.exponential(12 * DAY_SECONDS, count)).astype(np.int64)
    first_order = created + lag + rng.integers(60, 3 * HOUR, count)
    purchaser = (rng.random(count) < 0.80) & (first_order <= end_seconds)
    span_days = np.maximum(end_seconds - first_order, 0) / DAY_SECONDS
    # BG/NBD: repeat purchases at the customer's rate until the customer drops out (after each repeat
    # purchase with the customer's probability): customers really stop buying.
    life = rng.geometric(traits["dropout"])
    in_window = rng.poisson(traits["rate"] * span_days)
    repeats = np.where(purchaser, np.minimum(life, in_window), 0).astype(np.int64)
    # Repeat times: the first `repeats` of `in_window` uniform order statistics on the span.
    spacing = rng.exponential(1.0, int(repeats.sum()))
    owner_of_repeat = np.repeat(np.arange(count), repeats)
    running = np.cumsum(spacing)
    starts = segment_starts(repeats)
    some = repeats > 0
    base = np.repeat(running[starts[some]] - spacing[starts[some]], repeats[some])
    partial = running - base
    last_partial = np.zeros(count)
    last_partial[some] = partial[starts[some] + repeats[some] - 1]
    total = last_partial + rng.gamma(np.maximum(in_window - repeats, 0) + 1.0)
    repeat_times = first_order[owner_of_repeat] + (
        span_days[owner_of_repeat] * DAY_SECONDS * partial / total[owner_of_repeat]
    ).astype(np.int64)
    buyers = np.flatnonzero(purchaser)
    order_customer = np.concatenate([buyers, owner_of_repeat])
    order_time = np.concatenate([first_order[buyers], repeat_times])
    order_time = _customer_clock(rng, order_customer, order_time, traits, customers, ctx)
    ordering = np.lexsort((order_time, order_customer))
    order_customer, order_time = order_customer[ordering], order_time[ordering]
    n_orders = order_customer.size

    home_currency = np.array([CURRENCIES.index(c.currency) for c in COUNTRIES])[customers["country"]]
    channel = np.where(
        rng.random(n_orders) < 0.75,
        traits["favourite_channel"][order_customer],
        rng.integers(0, len(CHANNELS), n_orders),
    )
    saved = order_time + 60 + rng.exponential(20 * 60, n_orders).astype(np.int64)
    orders = {
        "number": np.zeros(n_orders, np.int64),  # assigned by the caller (global sequence)
        "customer": order_customer,
        "customer_number": customers["number"][order_customer],
        "customer_webshop": np.zeros(n_orders, bool),
        "time": order_time,
        "amount": np.zeros(n_orders, np.int64),  # the sum of the lines, see fill_baskets
        "currency": np.where(rng.random(n_orders) < 0.03, USD, home_currency[order_customer]),
        "status": np.full(n_orders, COMPLETED),
        "channel": channel,
        "updated": np.minimum(np.minimum(saved, end_of_day(order_time)), end_seconds),
    }
    first_of_customer = np.r_[True, order_customer[1:] != order_customer[:-1]] if n_orders else np.zeros(0, bool)
    first_bought = np.full(count, end_seconds, np.int64)
    first_bought[order_customer[first_of_customer]] = order_time[first_of_customer]
    return orders, purchaser, first_bought


def _customer_clock(
    rng: np.random.Generator, customer: np.ndarray, time: np.ndarray, traits: Table, customers: Table, ctx: Context
) -> np.ndarray:
    """Move each purchase to a day of the kind its customer prefers (weekday or weekend), at their hour."""
    n = time.size
    day = time // DAY_SECONDS
    weekday = (day + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    weekend = weekday >= 5
    wants_weekend = rng.random(n) < traits["weekend_affinity"][customer]
    coin = rng.integers(0, 2, n)
    # To a weekend: Saturday or Sunday ahead, or Sunday or Saturday before, the nearer weekend first.
    ahead, before = 5 - weekday + coin, -(weekday + 1) - coin
    ahead_nearer = (5 - weekday < weekday + 1) | ((5 - weekday == weekday + 1) & (coin == 1))
    # To a weekday: Saturday to Friday (or Monday), Sunday to Monday (or Friday).
    near, far = np.where(weekday == 5, -1, 1), np.where(weekday == 5, 2, -2)
    swap = rng.random(n) < 0.3
    to_weekend, to_weekday = wants_weekend & ~weekend, ~wants_weekend & weekend
    first_choice = np.where(
        to_weekend, np.where(ahead_nearer, ahead, before), np.where(to_weekday, np.where(swap, far, near), 0)
    )
    second_choice = np.where(
        to_weekend, np.where(ahead_nearer, before, ahead), np.where(to_weekday, np.where(swap, near, far), 0)
    )
    earliest = customers["created"][customer] // DAY_SECONDS

    def fits(shift: np.ndarray) -> np.ndarray:
        return (day + shift <= ctx.end_day) & (day + shift >= earliest)

    shift = np.where(fits(first_choice), first_choice, np.where(fits(second_choice), second_choice, 0))
    hours = traits["order_hour"][customer] + rng.normal(0, 1, n) * traits["hour_spread"][customer]
    seconds = np.mod(hours * HOUR, DAY_SECONDS).astype(np.int64)
    seconds = np.where(rng.random(n) < 0.08, rng.integers(0, DAY_SECONDS, n), seconds)  # now and then any time
    placed = (day + shift) * DAY_SECONDS + seconds
    return np.clip(placed, customers["created"][customer] + 60, ctx.end_seconds)


def fill_baskets(
    rng: np.random.Generator, orders: Table, traits: Table, customers: Table, ctx: Context
) -> tuple[Table, np.ndarray]:
    """Order lines (1 + Poisson(1.5) per order) and the order amounts they sum to.

    An order's first line is from a category the customer likes; further lines are often from a category
    bought with it (companions), so category pairs co-occur more than chance.
    """
    n_orders = size(orders)
    order_customer = orders["customer"]
    lines_per_order = np.minimum(1 + rng.poisson(1.5, n_orders), MAX_LINES)
    line_order = np.repeat(np.arange(n_orders), lines_per_order)
    n_lines = line_order.size
    line_starts = segment_starts(lines_per_order)
    line_customer = order_customer[line_order]
    company = customers["company"]
    anchor = _liked_categories(rng, order_customer, traits, company)
    # Each further line: 40% a companion of the first line's category, 20% the same, 40% anything liked.
    category = anchor[line_order]
    pick = rng.random(n_lines)
    pick[line_starts] = 0.5  # the first line is the anchor
    companion = np.flatnonzero(pick < 0.40)
    category[companion] = weighted_rows(rng, companion_weights(), category[companion])
    liked = np.flatnonzero(pick >= 0.60)
    category[liked] = _liked_categories(rng, line_customer[liked], traits, company)
    product = pick_products(rng, ctx.catalogue, category)

    line_currency = orders["currency"][line_order]
    unit_cny = ctx.catalogue["list_cents"][product] * _price_factor(rng, traits, line_customer)
    unit_cents = np.round(unit_cny / CNY_PER_UNIT[line_currency]).astype(np.int64)
    unit_cents = np.where(line_currency == JPY, np.round(unit_cents / 100) * 100, unit_cents)
    unit_cents = np.maximum(unit_cents, 1).astype(np.int64)
    # Spend as in Gamma-Gamma: the order value varies around the customer's level; lines share it.
    order_value = traits["spend_level"][order_customer] * rng.gamma(4.0, 0.25, n_orders)
    share = rng.gamma(2.0, 1.0, n_lines)
    share = share / np.add.reduceat(share, line_starts)[line_order] if n_lines else share
    quantity = np.clip(np.round(order_value[line_order] * 100 * share / unit_cny), 1, 500).astype(np.int64)
    line_cents = quantity * unit_cents
    amount = np.add.reduceat(line_cents, line_starts) if n_lines else np.zeros(0, np.int64)
    lines = {
        "order": line_order,
        "line_number": np.arange(n_lines) - line_starts[line_order] + 1,
        "product": product,
        "quantity": quantity,
        "unit_cents": unit_cents,
        "line_cents": line_cents,
    }
    return lines, amount


def _liked_categories(rng: np.random.Generator, rows: np.ndarray, traits: Table, company: np.ndarray) -> np.ndarray:
    """A category per row from its customer's taste: the favourite, its companion, or any category."""
    anywhere = weighted_rows(rng, _CATEGORY_WEIGHTS, (~company[rows]).astype(np.int64))
    pick = rng.random(rows.size)
    favourite = np.where(pick < 0.55, traits["primary_category"][rows], traits["secondary_category"][rows])
    return np.where(pick < 0.75, favourite, anywhere)


def _price_factor(rng: np.random.Generator, traits: Table, rows: np.ndarray) -> np.ndarray:
    """Unit price over list price per line: bargain hunters mostly below, premium buyers often above."""
    n = rows.size
    price_class = traits["price_class"][rows]
    pick, depth = rng.random(n), rng.uniform(0.6, 1.2, n)  # depth: how far from list, relative to the customer's
    factor = np.ones(n)
    bargain = np.flatnonzero((price_class == BARGAIN) & (pick < 0.85))
    factor[bargain] = np.maximum(1 - traits["discount_depth"][rows[bargain]] * depth[bargain], 0.6)
    promotion = np.flatnonzero((price_class == LIST_PRICE) & (pick < 0.12))  # an occasional 3-10% off
    factor[promotion] = 1 - (0.03 + 0.07 * (depth[promotion] - 0.6) / 0.6)
    premium = np.flatnonzero((price_class == PREMIUM) & (pick < 0.60))
    factor[premium] = 1 + traits["premium_markup"][rows[premium]] * depth[premium]
    return factor
