"""CLV holdout evaluation (a report, not a test): calibrate as of a past date, predict the next year, compare.

Generates demo exports (generic profile) up to END, runs the whole pipeline as of END - HOLDOUT_DAYS (orders
after the as-of date are ignored by every model), then counts each customer's actual purchase days in the
holdout window from the staged orders (each order's latest version) and compares them with
`marts.customer_clv.expected_purchases_365d`: totals, per-customer error, and the calibration/holdout table by
calibration frequency (the classic BTYD check). Writes benchmarks/results/clv_holdout.{json,md}.

    python -m benchmarks.clv_holdout [--customers 5000] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from datetime import date, timedelta
from pathlib import Path

import duckdb

from clientele_demo import generate_demo_exports
from orchestration.lib.pipeline import run_pipeline

END = date(2026, 6, 30)
HOLDOUT_DAYS = 365
RESULTS_DIR = Path(__file__).resolve().parent / "results"

# Actual purchase days (distinct days with completed orders) in the holdout window per resolved customer, from
# each order's latest version (staging keeps every version; an order cancelled or refunded later is not a purchase).
ACTUALS_SQL = """
with holdout_days as (
    select identity.customer_key, count(distinct cast(orders.order_date as date)) as actual_purchases
    from staging.stg_crm__orders as orders
    inner join marts.customer_identity_map as identity
        on identity.source_profile = orders.source_profile and identity.customer_id = orders.customer_id
    where orders.valid_to is null and orders.is_completed
        and cast(orders.order_date as date) > $as_of and cast(orders.order_date as date) <= $end
    group by identity.customer_key
)
select
    clv.customer_key,
    clv.frequency,
    clv.clv_method,
    clv.expected_purchases_365d as predicted,
    coalesce(holdout_days.actual_purchases, 0) as actual
from marts.customer_clv as clv
left join holdout_days using (customer_key)
"""


def evaluate(customers: int, seed: int, workdir: Path) -> dict:
    as_of = END - timedelta(days=HOLDOUT_DAYS)
    inbox, warehouse = workdir / "inbox", workdir / "warehouse"
    generate_demo_exports(inbox, customers, seed=seed, profile="generic", end_date=END)
    os.environ["DAGSTER_HOME"] = str(workdir / "dagster_home")
    (workdir / "dagster_home").mkdir(exist_ok=True)
    outcome = run_pipeline(inbox=inbox, warehouse=warehouse, as_of=as_of, echo=lambda _: None)
    if not outcome.success:
        raise SystemExit(outcome.summary())
    with duckdb.connect(str(warehouse / "clientele.duckdb"), read_only=True) as conn:
        scored = conn.execute(ACTUALS_SQL, {"as_of": as_of, "end": END}).df()
        fits = conn.execute("select model, parameter, value from marts.clv_model_fits order by 1, 2").fetchall()
    error = scored["predicted"] - scored["actual"]
    buckets = (
        scored.assign(bucket=scored["frequency"].clip(upper=7))
        .groupby("bucket")
        .agg(customers=("customer_key", "size"), predicted=("predicted", "mean"), actual=("actual", "mean"))
        .reset_index()
    )
    return {
        "customers_generated": customers,
        "seed": seed,
        "calibration_as_of": as_of.isoformat(),
        "holdout_end": END.isoformat(),
        "customers_scored": len(scored),
        "methods": scored["clv_method"].value_counts().to_dict(),
        "fits": {f"{model}.{parameter}": value for model, parameter, value in fits},
        "total_predicted": float(scored["predicted"].sum()),
        "total_actual": int(scored["actual"].sum()),
        "aggregate_error_share": float(error.sum() / max(scored["actual"].sum(), 1)),
        "per_customer_mae": float(error.abs().mean()),
        "per_customer_rmse": float((error**2).mean() ** 0.5),
        "correlation": float(scored["predicted"].corr(scored["actual"])),
        "by_calibration_frequency": buckets.to_dict(orient="records"),
    }


def markdown(result: dict) -> str:
    lines = [
        f"# CLV holdout evaluation ({result['customers_scored']:,} customers scored)",
        "",
        f"Calibrated as of {result['calibration_as_of']}, holdout up to {result['holdout_end']} "
        f"(demo data, seed {result['seed']}); customers scored by method: "
        + ", ".join(f"{method} {count:,}" for method, count in result["methods"].items())
        + ".",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| purchase days predicted (sum) | {result['total_predicted']:,.0f} |",
        f"| purchase days actual (sum) | {result['total_actual']:,} |",
        f"| aggregate error | {result['aggregate_error_share']:+.1%} |",
        f"| per-customer MAE | {result['per_customer_mae']:.3f} |",
        f"| per-customer RMSE | {result['per_customer_rmse']:.3f} |",
        f"| correlation predicted vs actual | {result['correlation']:.3f} |",
        "",
        "| repeat purchase days in calibration | customers | mean predicted | mean actual |",
        "|---|---:|---:|---:|",
    ]
    for row in result["by_calibration_frequency"]:
        label = f"{int(row['bucket'])}+" if row["bucket"] == 7 else str(int(row["bucket"]))
        lines.append(f"| {label} | {row['customers']:,} | {row['predicted']:.3f} | {row['actual']:.3f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="clv_holdout_") as workdir:
        result = evaluate(args.customers, args.seed, Path(workdir))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "clv_holdout.json").write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    (RESULTS_DIR / "clv_holdout.md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
