"""Customer records (who they are, as the CRM holds them) and their hidden traits (how they behave).

Records: accounts (B2B) and persons (B2C) in Chinese and foreign cities, with names, e-mail, phone, owner,
lead source, industry and the time they were created. Traits drive the simulation and are never exported:
purchase rate and dropout (BG/NBD), spend level (Gamma-Gamma), satisfaction, category and price preferences,
when in the day and week they order, how much service they need and how they like to be contacted.
"""

from __future__ import annotations

import numpy as np

from clientele_demo.catalogue import CATEGORY_COUNT, companion_weights
from clientele_demo.context import Context
from clientele_demo.sampling import DAY_SECONDS, HOUR, Table, end_of_day, weighted, weighted_rows
from clientele_demo.vocabularies import (
    CHANNELS,
    CHINA,
    CHINESE_BRANDS,
    COMPANY_EMAIL_ROLES,
    COUNTRIES,
    FIRST_NAMES,
    FOREIGN_BRANDS,
    GIVEN_NAMES,
    INDUSTRIES,
    INTERACTION_TYPE_WEIGHTS,
    LAST_NAMES,
    LEAD_SOURCES,
    OWNERS,
    PERSON_EMAIL_DOMAINS_CN,
    PERSON_EMAIL_DOMAINS_INT,
    PERSON_ORDER_HOURS,
    PRODUCT_CATEGORIES,
    SURNAMES,
    numeric_column,
)

HISTORY_DAYS = 4 * 365
PHONE_SERIAL_STEP = 300_000_000  # a customer's n-th number scrambles number + n * step: never another's


def phone_numbers(number: np.ndarray, serial: np.ndarray | int, china: np.ndarray) -> np.ndarray:
    """National numbers, unique per (customer number, serial): CN 13x-19x mobiles, elsewhere 10 digits.

    The scrambling is a bijection modulo 10^9 and customer numbers stay far below the serial step.
    """
    shifted = number + np.asarray(serial, dtype=np.int64) * PHONE_SERIAL_STEP
    scrambled = (shifted * 387_420_489 + 123_456_789) % 1_000_000_000
    return np.where(china, 13 + shifted % 7, 2 + shifted % 8) * 1_000_000_000 + scrambled


def email_domain_count(company: np.ndarray, china: np.ndarray) -> np.ndarray:
    """How many e-mail domains (persons) or role mailboxes (accounts) a record can use."""
    return np.where(
        company, len(COMPANY_EMAIL_ROLES), np.where(china, len(PERSON_EMAIL_DOMAINS_CN), len(PERSON_EMAIL_DOMAINS_INT))
    )


def first_version_time(rng: np.random.Generator, made: np.ndarray, end_seconds: int) -> np.ndarray:
    """When a new record was first saved: at `made` or a few minutes later, on the same day."""
    lag = np.where(rng.random(made.size) < 0.6, 0, 30 + rng.exponential(240, made.size)).astype(np.int64)
    return np.minimum(np.minimum(made + lag, end_of_day(made)), end_seconds)


def simulate_customers(rng: np.random.Generator, first_number: int, count: int, ctx: Context) -> Table:
    """The first version of `count` customer records numbered from `first_number`."""
    number = np.arange(first_number, first_number + count, dtype=np.int64)
    company = rng.random(count) < 0.35
    country = weighted(rng, [c.weight for c in COUNTRIES], count)
    city = np.zeros(count, np.int64)
    city_offsets = np.cumsum([0] + [len(c.cities) for c in COUNTRIES])
    for c, spec in enumerate(COUNTRIES):
        rows = country == c
        city[rows] = city_offsets[c] + weighted(rng, [x.weight for x in spec.cities], int(rows.sum()))
    china = country == CHINA
    name_a = np.where(
        company,
        np.where(china, rng.integers(0, len(CHINESE_BRANDS), count), rng.integers(0, len(FOREIGN_BRANDS), count)),
        np.where(china, rng.integers(0, len(SURNAMES), count), rng.integers(0, len(FIRST_NAMES), count)),
    )
    name_b = np.where(
        company,
        rng.integers(0, len(INDUSTRIES), count),  # an account's name says its industry
        np.where(china, rng.integers(0, len(GIVEN_NAMES), count), rng.integers(0, len(LAST_NAMES), count)),
    )
    name_c = weighted(rng, (0.7, 0.2, 0.1), count)  # Chinese company suffix
    has_email = rng.random(count) < np.where(company, 0.95, 0.88)
    has_phone = rng.random(count) < np.where(company, 0.92, 0.85)
    email_domain = (rng.random(count) * email_domain_count(company, china)).astype(np.int64)
    lead_source = np.where(
        company,
        weighted(rng, numeric_column(LEAD_SOURCES, 2), count),
        weighted(rng, numeric_column(LEAD_SOURCES, 3), count),
    )
    age_days = np.floor(HISTORY_DAYS * rng.random(count) ** 1.35).astype(np.int64)
    created = (ctx.end_day - age_days) * DAY_SECONDS + time_of_day(rng, count)
    created = np.minimum(created, ctx.end_seconds - HOUR)
    return {
        "number": number,
        "email_number": number.copy(),  # the number in the e-mail address; a duplicate shows the original's
        "webshop": np.zeros(count, bool),
        "company": company,
        "country": country,
        "city": city,
        "name_a": name_a,
        "name_b": name_b,
        "name_c": name_c,
        "industry": np.where(company, name_b, -1),
        "has_email": has_email,
        "email_domain": email_domain,
        "email_case": np.zeros(count, np.int8),
        "email_padded": np.zeros(count, bool),
        "has_phone": has_phone,
        "national": phone_numbers(number, 0, china),
        "phone_style": np.full(count, ctx.layout.phone_style, np.int8),
        "owner": rng.integers(0, len(OWNERS), count),
        "lead_source": lead_source,
        "created": created,
        "updated": first_version_time(rng, created, ctx.end_seconds),
    }


def time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds into the day, mostly office hours."""
    office = np.clip(rng.normal(14 * HOUR, 2.4 * HOUR, n), 8 * HOUR, 21 * HOUR)
    anytime = rng.uniform(0, DAY_SECONDS, n)
    return np.where(rng.random(n) < 0.88, office, anytime).astype(np.int64)


def draw_traits(rng: np.random.Generator, customers: Table, ctx: Context) -> Table:
    """How each customer behaves; every trait varies between customers, which is what segments find."""
    company = customers["company"]
    count = company.size
    # Purchasing: BG/NBD (rate ~ Gamma, dropout after each repeat purchase ~ Beta); spend as in Gamma-Gamma.
    rate = rng.gamma(0.9, np.where(company, 0.075, 0.045) / 0.9, count)
    dropout = rng.beta(1.3, 18.0, count)
    # Satisfaction (drives NPS/CSAT and tickets): happier customers drop out less.
    churn_propensity = np.log(dropout / (1 - dropout))
    churn_propensity = (churn_propensity - churn_propensity.mean()) / max(churn_propensity.std(), 1e-9)
    satisfaction = -0.75 * churn_propensity + rng.normal(0, 0.66, count)
    spend_level = np.where(company, 5200.0, 420.0) * 2.0 / rng.gamma(3.0, 1.0, count)
    favourite_channel = np.where(
        company,
        weighted(rng, numeric_column(CHANNELS, 2), count),
        weighted(rng, numeric_column(CHANNELS, 3), count),
    )
    # Categories: a favourite, and a second one usually bought with it (its companion).
    primary = np.where(
        company,
        weighted(rng, numeric_column(PRODUCT_CATEGORIES, 4), count),
        weighted(rng, numeric_column(PRODUCT_CATEGORIES, 5), count),
    )
    companions = companion_weights() + 0.05 * (1 - np.eye(CATEGORY_COUNT))
    secondary = weighted_rows(rng, companions, primary)
    # Price: bargain hunters buy at discounts, most pay list price, some pay above it (premium service).
    price_class = np.where(company, weighted(rng, (0.45, 0.45, 0.10), count), weighted(rng, (0.30, 0.55, 0.15), count))
    # When: accounts in office hours on weekdays; persons at their own hour, some mostly at weekends.
    person_hours = numeric_column(PERSON_ORDER_HOURS, 0)[weighted(rng, numeric_column(PERSON_ORDER_HOURS, 1), count)]
    order_hour = np.where(company, rng.uniform(9.5, 16.5, count), person_hours + rng.normal(0, 0.5, count))
    weekend_affinity = np.where(company, rng.beta(1.0, 14.0, count), rng.beta(1.2, 1.8, count))
    # Service: a heavy-tailed need for support (many customers never open a ticket, a few open many).
    service = rng.gamma(0.5, 2.0, count)
    # Engagement: some customers are never contacted, the others from rarely to often.
    silent = rng.random(count) < np.where(company, 0.05, 0.13)
    engagement = np.where(silent, 0.0, rng.gamma(4.0, 0.25, count))
    allowed = ctx.interaction_types
    favourite_interaction = np.where(
        company,
        allowed[weighted(rng, np.asarray(INTERACTION_TYPE_WEIGHTS["company"])[allowed], count)],
        allowed[weighted(rng, np.asarray(INTERACTION_TYPE_WEIGHTS["person"])[allowed], count)],
    )
    return {
        "rate": rate,
        "dropout": dropout,
        "satisfaction": satisfaction,
        "spend_level": spend_level,
        "favourite_channel": favourite_channel,
        "primary_category": primary,
        "secondary_category": secondary,
        "price_class": price_class,
        "discount_depth": rng.uniform(0.08, 0.30, count),
        "premium_markup": rng.uniform(0.03, 0.15, count),
        "order_hour": order_hour,
        "hour_spread": np.where(company, 1.6, 1.1),
        "weekend_affinity": weekend_affinity,
        "service": service,
        "engagement": engagement,
        "favourite_interaction": favourite_interaction,
        "on_site_share": rng.beta(2.0, 3.0, count),  # of meetings held on site rather than by video
    }
