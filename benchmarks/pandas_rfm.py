"""The script a user would write instead of Clientele: RFM scores and value tiers with plain pandas.

Same definitions as the dbt models customer_rfm and int_customers_value_tiered: latest version of every
order and customer record, completed orders on or before as-of, amounts converted to the reporting
currency, records sharing an e-mail or a phone merged into one customer (keyed by the smallest record id),
R/F/M quintiles of the percent rank among purchasers, Pareto tiers on trailing-12-month revenue.
Money is handled in integer cents so that ranks, ties and tier boundaries are exact.

    python -m benchmarks.pandas_rfm --orders 'inbox/generic_orders*.csv' --customers 'inbox/generic_customers*.csv'
        --fx-rates dbt_project/seeds/fx_rates.csv --countries dbt_project/seeds/countries.csv
        --as-of 2025-06-30 --out rfm.parquet
"""

from __future__ import annotations

import argparse
import glob
import hashlib
from datetime import date
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

ORDER_COLUMNS = ["order_id", "customer_id", "order_date", "amount", "currency", "status", "updated_at"]
CUSTOMER_COLUMNS = ["customer_id", "email", "phone", "country", "updated_at"]


def read_csvs(pattern: str, columns: list[str], dates: list[str]) -> pd.DataFrame:
    frames = []
    for path in sorted(glob.glob(pattern)):
        frame = pd.read_csv(path, usecols=columns, parse_dates=dates, dtype={"customer_id": str, "order_id": str})
        frame["file"] = Path(path).name
        frames.append(frame)
    if not frames:
        raise FileNotFoundError(f"no file matches {pattern}")
    return pd.concat(frames, ignore_index=True)


def latest_versions(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """The latest version of each record: greatest updated_at, then the last file name."""
    ordered = frame.sort_values([key, "updated_at", "file"], na_position="first", kind="stable")
    return ordered.drop_duplicates(key, keep="last")


def round_half_away(values: np.ndarray) -> np.ndarray:
    """C's round(): halves away from zero (numpy's round goes to even)."""
    magnitude = np.abs(values)
    whole = np.floor(magnitude)
    return np.sign(values) * (whole + (magnitude - whole >= 0.5))


def amounts_in_cents(orders: pd.DataFrame, fx: pd.DataFrame, reporting_currency: str) -> np.ndarray:
    """round(amount x rate / reporting rate, 2) in cents, with the product exact as in DuckDB's decimals."""
    rates = np.round(fx["rate_to_usd"].to_numpy() * 1e8).astype(np.int64)
    rates_e8 = dict(zip(fx["currency"].str.upper(), rates, strict=True))
    order_rate = orders["currency"].map(rates_e8).to_numpy(dtype=np.int64)
    amount_cents = np.round(orders["amount"].to_numpy(dtype=np.float64) * 100).astype(np.int64)
    converted = (amount_cents * order_rate).astype(np.float64) / 1e10 / (rates_e8[reporting_currency.upper()] / 1e8)
    return round_half_away(converted * 100).astype(np.int64)


def flag(condition: pd.Series) -> np.ndarray:
    """A nullable boolean Series as a plain mask (missing = False)."""
    return condition.fillna(False).to_numpy(dtype=bool)


def normalize_phones(phone: pd.Series, calling_code: pd.Series) -> pd.Series:
    """Digits with the country calling code (Clientele's normalize_phone); outside 8-15 digits = missing."""
    digits = phone.str.replace(r"[^0-9]", "", regex=True)
    code_length = calling_code.str.len()
    starts_with_code = np.zeros(len(phone), dtype=bool)
    for length in code_length.dropna().unique():  # calling codes have 1 to 4 digits
        starts_with_code |= flag(code_length == length) & flag(digits.str[: int(length)] == calling_code)
    choices = [
        (flag(phone.str.strip().str.startswith("+")), digits),
        (flag(digits.str.startswith("00")), digits.str[2:]),
        (calling_code.isna().to_numpy(), digits),
        (flag(digits.str.startswith("0")), calling_code + digits.str[1:]),
        (starts_with_code & flag(digits.str.len() >= code_length + 9), digits),
    ]
    normalized = calling_code + digits
    for condition, value in reversed(choices):  # the first matching rule wins
        normalized = value.where(condition, normalized)
    return normalized.where(flag(normalized.str.len().between(8, 15)))


def resolve_identities(customers: pd.DataFrame, countries: pd.DataFrame, max_records: int) -> pd.Series:
    """customer_id -> anchor customer_id: records sharing a normalised e-mail or phone merge."""
    email = customers["email"].str.strip().str.lower()
    email = email.where(flag(email.str.match(r"^.+@.+\..+$") & ~email.str.contains(" ")))
    calling_codes = countries.assign(alias=countries["country_alias"].str.lower()).drop_duplicates("alias")
    calling_code = customers["country"].str.strip().str.lower().map(calling_codes.set_index("alias")["calling_code"])
    phone = normalize_phones(customers["phone"], calling_code.astype("string"))
    identifiers = pd.concat(
        [
            pd.DataFrame({"customer_id": customers["customer_id"], "identifier": "email:" + email}),
            pd.DataFrame({"customer_id": customers["customer_id"], "identifier": "phone:" + phone}),
        ]
    ).dropna()
    groups = identifiers.groupby("identifier")["customer_id"]
    shared = groups.agg(["size", "min"])
    shared = shared[(shared["size"] >= 2) & (shared["size"] <= max_records)]["min"]
    linked = identifiers.assign(anchor=identifiers["identifier"].map(shared)).dropna(subset=["anchor"])
    anchors = linked.groupby("customer_id")["anchor"].min()
    return customers["customer_id"].map(anchors).fillna(customers["customer_id"]).set_axis(customers["customer_id"])


def quintile(values: pd.Series, ascending: bool) -> np.ndarray:
    """1 + floor(5 x percent_rank), capped at 5; ties share the lowest rank."""
    ranks = values.rank(method="min", ascending=ascending).to_numpy()
    count = len(values)
    percent_rank = (ranks - 1) / (count - 1) if count > 1 else np.zeros(count)
    return np.minimum(5, 1 + np.floor(5 * percent_rank)).astype(np.int32)


def compute_rfm(
    orders: pd.DataFrame,
    customers: pd.DataFrame,
    fx: pd.DataFrame,
    countries: pd.DataFrame,
    *,
    as_of: date,
    reporting_currency: str = "USD",
    default_currency: str = "USD",
    tier_a_share: float = 0.70,
    tier_b_share: float = 0.90,
    max_records_per_identifier: int = 20,
    source_profile: str = "generic",
) -> pd.DataFrame:
    """One row per customer: anchor_customer_id, recency_days, frequency, monetary (cents), R/F/M, value_tier."""
    as_of_ts = pd.Timestamp(as_of)
    orders = latest_versions(orders, "order_id")
    orders = orders.assign(
        currency=orders["currency"].str.upper().fillna(default_currency),
        status=orders["status"].str.lower().fillna("completed"),
    )
    orders = orders[(orders["status"] == "completed") & (orders["order_date"] <= as_of_ts)]
    orders = orders.assign(cents=amounts_in_cents(orders, fx, reporting_currency))

    customers = latest_versions(customers, "customer_id")
    anchor_of = resolve_identities(customers, countries, max_records_per_identifier)
    orders = orders.assign(anchor=orders["customer_id"].map(anchor_of)).dropna(subset=["anchor"])

    days = orders.groupby(["anchor", "order_date"], as_index=False)["cents"].sum()
    trailing_start = as_of_ts - pd.DateOffset(months=12)
    days["trailing_cents"] = days["cents"].where(days["order_date"] > trailing_start, 0)
    rfm = days.groupby("anchor").agg(
        last_purchase=("order_date", "max"),
        frequency=("order_date", "size"),
        monetary_cents=("cents", "sum"),
        trailing_cents=("trailing_cents", "sum"),
    )
    rfm["recency_days"] = (as_of_ts - rfm["last_purchase"]).dt.days
    rfm["r_score"] = quintile(rfm["recency_days"], ascending=False)
    rfm["f_score"] = quintile(rfm["frequency"], ascending=True)
    rfm["m_score"] = quintile(rfm["monetary_cents"], ascending=True)

    earners = rfm.loc[rfm["trailing_cents"] > 0, ["trailing_cents"]].reset_index()
    # Equal revenues rank by the pipeline's customer key, md5("<profile>:<record id>"); only ties need it.
    tied = earners["trailing_cents"].duplicated(keep=False).to_numpy()
    earners["customer_key"] = ""
    earners.loc[tied, "customer_key"] = [
        hashlib.md5(f"{source_profile}:{anchor}".encode()).hexdigest() for anchor in earners.loc[tied, "anchor"]
    ]
    earners = earners.sort_values(["trailing_cents", "customer_key"], ascending=[False, True])
    above = earners["trailing_cents"].cumsum() - earners["trailing_cents"]
    total = int(earners["trailing_cents"].sum())
    tier_a, tier_b = Fraction(str(tier_a_share)), Fraction(str(tier_b_share))
    in_a = above * tier_a.denominator < tier_a.numerator * total
    in_b = above * tier_b.denominator < tier_b.numerator * total
    earners["value_tier"] = np.where(in_a, "A", np.where(in_b, "B", "C"))

    result = pd.DataFrame({"anchor_customer_id": anchor_of.drop_duplicates().to_numpy()})
    result = result.merge(rfm.reset_index(names="anchor_customer_id"), on="anchor_customer_id", how="left")
    result = result.merge(
        earners[["anchor", "value_tier"]].rename(columns={"anchor": "anchor_customer_id"}),
        on="anchor_customer_id",
        how="left",
    )
    result["value_tier"] = result["value_tier"].fillna("none")
    columns = ["recency_days", "frequency", "monetary_cents", "r_score", "f_score", "m_score"]
    result[columns] = result[columns].astype("Int64")
    return result[["anchor_customer_id", *columns, "value_tier"]]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", required=True, help="glob of order CSV files")
    parser.add_argument("--customers", required=True, help="glob of customer CSV files")
    parser.add_argument("--fx-rates", required=True, help="CSV currency,rate_to_usd")
    parser.add_argument("--countries", required=True, help="CSV country_alias,...,calling_code")
    parser.add_argument("--as-of", required=True, type=date.fromisoformat)
    parser.add_argument("--reporting-currency", default="USD")
    parser.add_argument("--default-currency", default="USD")
    parser.add_argument("--tier-a-share", type=float, default=0.70)
    parser.add_argument("--tier-b-share", type=float, default=0.90)
    parser.add_argument("--max-records-per-identifier", type=int, default=20)
    parser.add_argument("--source-profile", default="generic", help="profile of the exports (part of the key)")
    parser.add_argument("--out", required=True, help="Parquet file to write")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    orders = read_csvs(args.orders, ORDER_COLUMNS, ["order_date", "updated_at"])
    customers = read_csvs(args.customers, CUSTOMER_COLUMNS, ["updated_at"])
    fx = pd.read_csv(args.fx_rates)
    countries = pd.read_csv(args.countries, dtype=str)
    result = compute_rfm(
        orders,
        customers,
        fx,
        countries,
        as_of=args.as_of,
        reporting_currency=args.reporting_currency,
        default_currency=args.default_currency,
        tier_a_share=args.tier_a_share,
        tier_b_share=args.tier_b_share,
        max_records_per_identifier=args.max_records_per_identifier,
        source_profile=args.source_profile,
    )
    result.to_parquet(args.out, index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
