"""Run benchmarks/floor.sql with DuckDB: the fastest way to RFM scores and value tiers from the raw CSVs.

python -m benchmarks.floor --orders 'inbox/generic_orders*.csv' --customers 'inbox/generic_customers*.csv'
    --as-of 2025-06-30 --out floor.parquet
"""

from __future__ import annotations

import argparse
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb

FLOOR_SQL = Path(__file__).resolve().parent / "floor.sql"
SEEDS_DIR = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"


def run_floor(
    *,
    orders: str,
    customers: str,
    as_of: date,
    out: Path,
    fx_rates: Path = SEEDS_DIR / "fx_rates.csv",
    countries: Path = SEEDS_DIR / "countries.csv",
    reporting_currency: str = "USD",
    default_currency: str = "USD",
    tier_a_share: str = "0.70",
    tier_b_share: str = "0.90",
    max_records_per_identifier: int = 20,
    source_profile: str = "generic",
) -> Path:
    """Execute floor.sql in a fresh in-memory DuckDB; writes one Parquet row per customer to `out`."""
    variables = {
        "orders_files": orders,
        "customers_files": customers,
        "fx_rates_file": str(fx_rates),
        "countries_file": str(countries),
        "as_of": as_of,
        "reporting_currency": reporting_currency,
        "default_currency": default_currency,
        "tier_a_share": Decimal(tier_a_share),
        "tier_b_share": Decimal(tier_b_share),
        "max_records_per_identifier": max_records_per_identifier,
        "source_profile": source_profile,
        "output_file": str(out),
    }
    with duckdb.connect() as conn:
        for name, value in variables.items():
            conn.execute(f"SET VARIABLE {name} = ?", [value])
        conn.execute(FLOOR_SQL.read_text(encoding="utf-8"))
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", required=True, help="glob of order CSV files")
    parser.add_argument("--customers", required=True, help="glob of customer CSV files")
    parser.add_argument("--fx-rates", type=Path, default=SEEDS_DIR / "fx_rates.csv")
    parser.add_argument("--countries", type=Path, default=SEEDS_DIR / "countries.csv")
    parser.add_argument("--as-of", required=True, type=date.fromisoformat)
    parser.add_argument("--reporting-currency", default="USD")
    parser.add_argument("--default-currency", default="USD")
    parser.add_argument("--tier-a-share", default="0.70")
    parser.add_argument("--tier-b-share", default="0.90")
    parser.add_argument("--max-records-per-identifier", type=int, default=20)
    parser.add_argument("--source-profile", default="generic")
    parser.add_argument("--out", required=True, type=Path, help="Parquet file to write")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run_floor(
        orders=args.orders,
        customers=args.customers,
        as_of=args.as_of,
        out=args.out,
        fx_rates=args.fx_rates,
        countries=args.countries,
        reporting_currency=args.reporting_currency,
        default_currency=args.default_currency,
        tier_a_share=args.tier_a_share,
        tier_b_share=args.tier_b_share,
        max_records_per_identifier=args.max_records_per_identifier,
        source_profile=args.source_profile,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
