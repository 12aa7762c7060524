"""One chunk of the demo CRM: customers and everything they did, as column tables (see sampling.Table)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clientele_demo.context import Context
from clientele_demo.customers import draw_traits, simulate_customers
from clientele_demo.engagement import simulate_interactions, simulate_surveys, simulate_tickets
from clientele_demo.identity import LaterLinks, plant_later_links
from clientele_demo.purchases import fill_baskets, place_orders
from clientele_demo.sampling import Table


@dataclass
class Chunk:
    customers: Table  # first versions
    orders: Table  # first versions (completed, saved on the order day)
    order_lines: Table
    interactions: Table
    tickets: Table
    surveys: Table
    later_links: LaterLinks

    def table(self, entity: str) -> Table:
        return getattr(self, entity)


def simulate_chunk(rng: np.random.Generator, first_number: int, count: int, ctx: Context) -> Chunk:
    """Customers numbered from `first_number`, their orders, lines, interactions, tickets and surveys."""
    customers = simulate_customers(rng, first_number, count, ctx)
    later_links = plant_later_links(rng, customers, ctx)
    traits = draw_traits(rng, customers, ctx)
    orders, purchaser, first_bought = place_orders(rng, customers, traits, ctx)
    lines, orders["amount"] = fill_baskets(rng, orders, traits, customers, ctx)
    orders_per_customer = np.bincount(orders["customer"], minlength=count)
    return Chunk(
        customers=customers,
        orders=orders,
        order_lines=lines,
        interactions=simulate_interactions(rng, customers, traits, orders_per_customer, ctx),
        tickets=simulate_tickets(rng, customers, traits, orders_per_customer, first_bought, purchaser, ctx),
        surveys=simulate_surveys(rng, customers, traits, first_bought, purchaser, ctx),
        later_links=later_links,
    )
