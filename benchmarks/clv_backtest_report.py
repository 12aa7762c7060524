"""The in-run CLV backtest and churn list on the demo data, as the markdown tables of docs/clv_and_churn.md.

Generates the demo exports (`clientele demo-data --customers 3000 --seed 7 --end-date 2026-06-30`), runs the
whole pipeline as of the end date, and prints from the working database: each purchase model's backtest
(`marts.model_backtest`), the selection (`marts.clv_model_fits`), the calibration deciles and lifecycle stages
of the chosen model, the churn list the backtest would have drawn at several probability thresholds (the same
customers and library as the dbt model int_clv_purchase_models_backtested, with and without the list's
capacity) and the size of the run's `marts.churn_risk`.

    python -m benchmarks.clv_backtest_report [--customers 3000] [--seed 7] [--end-date 2026-06-30]
        [--work-dir D [--report-only]]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from clientele_clv import backtest_purchase_models
from clientele_clv.backtest import BacktestReport
from clientele_clv.backtest_table import CHURN_LIST_BREAKDOWN, ChurnList, backtest_table
from clientele_demo import generate_demo_exports
from orchestration.lib.pipeline import run_pipeline
from orchestration.lib.settings import setting

END = date(2026, 6, 30)
THRESHOLDS = (0.5, 0.6, 0.7, 0.8)
STAGES = ("new", "active", "reactivated", "at_risk", "churned")
HEADLINE = (
    ("churn AUC", "{churn_auc:.3f}"),
    ("Brier score", "{brier_score:.3f}"),
    ("holdout log-likelihood", "{log_likelihood:,.1f}"),
    ("no purchase: predicted / observed share", "{predicted_no_purchase_share:.3f} / {observed_no_purchase_share:.3f}"),
    ("purchase days: predicted / actual", "{predicted_purchase_days:,.0f} / {actual_purchase_days:,.0f}"),
    ("aggregate error", "{aggregate_relative_error:+.1%}"),
    ("per-customer MAE / correlation", "{mean_absolute_error:.3f} / {correlation:.3f}"),
)
LISTED_SQL = """
select
    count(*) filter (where segments.lifecycle_stage in (select unnest($stages))) as current_customers,
    count(risk.customer_key) as listed,
    count(risk.customer_key) filter (where risk.reason_codes like '%likely_to_churn%') as listed_on_probability
from marts.customer_segments as segments
left join marts.churn_risk as risk using (customer_key)
"""


def run_demo(work_dir: Path, customers: int, seed: int, end: date) -> Path:
    """Demo exports up to `end` and a whole pipeline run as of `end`; the working database's path."""
    inbox, warehouse = work_dir / "inbox", work_dir / "warehouse"
    generate_demo_exports(inbox, customers, seed=seed, profile="generic", end_date=end)
    os.environ["DAGSTER_HOME"] = str(work_dir / "dagster_home")  # this script's own Dagster instance
    (work_dir / "dagster_home").mkdir(exist_ok=True)
    outcome = run_pipeline(inbox=inbox, warehouse=warehouse, as_of=end, echo=lambda _: None)
    if not outcome.success:
        raise SystemExit(outcome.summary())
    return warehouse / "clientele.duckdb"


def _table(header: Sequence[str], rows: list[Sequence], align: str = "---:") -> str:
    lines = ["| " + " | ".join(header) + " |", "|---|" + "|".join([align] * (len(header) - 1)) + "|"]
    return "\n".join(lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows])


def headline_table(backtest: pd.DataFrame) -> str:
    """One column per model with a usable fit (the chosen one first), one row per headline metric."""
    overall = backtest[backtest["breakdown"].isna() & backtest["model"].notna()]
    metrics = overall.pivot(index="model", columns="metric", values="value")
    chosen = set(backtest.loc[backtest["is_chosen"], "model"])
    models = sorted(metrics.index, key=lambda model: model not in chosen)
    header = ["metric"] + [f"{model} (chosen)" if model in chosen else model for model in models]
    rows = [["customers backtested"] + [f"{metrics.loc[model, 'n_customers']:,.0f}" for model in models]]
    rows += [[label] + [form.format(**metrics.loc[model]) for model in models] for label, form in HEADLINE]
    return _table(header, rows)


def decile_table(backtest: pd.DataFrame) -> str:
    """The chosen model's calibration chart: predicted beside observed no-purchase share per decile."""
    deciles = backtest[backtest["is_chosen"] & (backtest["breakdown"] == "churn_probability_decile")]
    wide = deciles.pivot(index="metric", columns="breakdown_value", values="value")
    rows = [
        [label] + [f"{value:{form}}" for value in wide.loc[metric]]
        for label, metric, form in (
            ("customers", "n_customers", ",.0f"),
            ("predicted no purchase", "mean_predicted_no_purchase", ".2f"),
            ("observed no purchase", "observed_no_purchase_share", ".2f"),
        )
    ]
    return _table(["decile of churn probability", *wide.columns], rows)


def stage_table(backtest: pd.DataFrame) -> str:
    """Per lifecycle stage at the calibration date: customers, how many bought again, what the chosen model said."""
    stages = backtest[backtest["breakdown"] == "lifecycle_stage"]
    observed = stages[stages["model"].isna()].pivot(index="breakdown_value", columns="metric", values="value")
    predicted = stages[stages["is_chosen"]].pivot(index="breakdown_value", columns="metric", values="value")
    order = [stage for stage in STAGES if stage in observed.index] + sorted(set(observed.index) - set(STAGES))
    horizon = int(backtest["horizon_days"].iloc[0])
    rows = [
        [
            stage,
            f"{observed.loc[stage, 'n_customers']:,.0f}",
            f"{observed.loc[stage, 'observed_purchase_share']:.0%}",
            f"{predicted.loc[stage, 'predicted_purchase_share']:.0%}",
        ]
        for stage in order
    ]
    return _table(["lifecycle stage at calibration", "customers", f"bought again in {horizon} days", "predicted"], rows)


def churn_list_by_threshold(
    report: BacktestReport,
    customers: pd.DataFrame,
    eligible: np.ndarray,
    thresholds: Sequence[float],
    max_share: float,
) -> pd.DataFrame:
    """The chosen model's backtested churn list per threshold, with the capacity `max_share` and without: share of
    the eligible customers listed, and the no-purchase share of the listed and not listed eligible customers.
    `customers` holds frequency, recency, t and holdout_purchase_days in the order `report` was computed on."""
    arrays = [customers[c].to_numpy(dtype=float) for c in ("frequency", "recency", "t", "holdout_purchase_days")]
    rows = []
    for threshold in thresholds:
        row = {"threshold": threshold}
        for suffix, share in (("", max_share), ("_uncapped", 1.0)):
            table = backtest_table(report, *arrays, churn_list=ChurnList(eligible, threshold, share))
            listed = table[(table["model"] == report.chosen) & (table["breakdown"] == CHURN_LIST_BREAKDOWN)]
            values = listed.set_index(["breakdown_value", "metric"])["value"]
            row[f"share_listed{suffix}"] = values.get(("listed", "share_of_eligible"), 0.0)
            row[f"no_purchase_listed{suffix}"] = values.get(("listed", "observed_no_purchase_share"), np.nan)
            row[f"no_purchase_not_listed{suffix}"] = values.get(("not_listed", "observed_no_purchase_share"), np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def threshold_table(by_threshold: pd.DataFrame, default_threshold: float) -> str:
    rows = []
    for row in by_threshold.itertuples(index=False):  # one row per threshold, not per customer
        cells = [
            f"{row.threshold:.1f}",
            f"{row.share_listed:.0%}",
            f"{row.no_purchase_listed:.0%}",
            f"{row.no_purchase_not_listed:.0%}",
            f"{row.share_listed_uncapped:.0%}",
            f"{row.no_purchase_listed_uncapped:.0%} / {row.no_purchase_not_listed_uncapped:.0%}",
        ]
        rows.append([f"**{cell}**" for cell in cells] if np.isclose(row.threshold, default_threshold) else cells)
    header = [
        "churn_probability_threshold",
        "share listed",
        "no purchase: listed",
        "no purchase: not listed",
        "share listed without the capacity",
        "no purchase without it: listed / not listed",
    ]
    return _table(header, rows)


def _backtest_customers(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    schema = conn.execute(
        "select schema_name from duckdb_tables() where table_name = 'int_customers_summarized_for_backtest'"
    ).fetchone()[0]
    table = f'"{schema}".int_customers_summarized_for_backtest'
    return conn.execute(f"select * from {table} order by customer_key").df()


def report(database: Path) -> str:
    stages = list(setting("churn_risk_lifecycle_stages"))
    with duckdb.connect(str(database), read_only=True) as conn:
        backtest = conn.execute("select * from marts.model_backtest").df()
        fits = conn.execute("select distinct model, selection_reason from marts.clv_model_fits").df()
        customers = _backtest_customers(conn)
        current, listed, on_probability = conn.execute(LISTED_SQL, {"stages": stages}).fetchone()
    reestimated = backtest_purchase_models(
        *(customers[c].to_numpy(dtype=float) for c in ("frequency", "recency", "t", "holdout_purchase_days")),
        float(setting("backtest_horizon_days")),
        min_customers=int(setting("clv_min_customers")),
        min_repeat_customers=int(setting("clv_min_repeat_customers")),
    )
    eligible = customers["lifecycle_stage"].isin(stages).to_numpy()
    by_threshold = churn_list_by_threshold(
        reestimated, customers, eligible, THRESHOLDS, float(setting("churn_list_max_share"))
    )
    eligible_no_purchase = float((customers.loc[eligible, "holdout_purchase_days"] == 0).mean())
    as_of, calibration = backtest["as_of_date"].iloc[0].date(), backtest["calibration_date"].iloc[0].date()
    reasons = fits.dropna(subset=["selection_reason"])
    sections = [
        f"as of {as_of}, calibrated as of {calibration}",
        "selection: " + "; ".join(f"{r.model}: {r.selection_reason}" for r in reasons.itertuples()),
        headline_table(backtest),
        decile_table(backtest),
        stage_table(backtest),
        f"churn list at the calibration date ({reestimated.chosen}, same choice as the run: "
        f"{reestimated.chosen in set(backtest.loc[backtest['is_chosen'], 'model'])}); {int(eligible.sum()):,} current "
        f"customers, {eligible_no_purchase:.0%} of them made no purchase in the horizon",
        threshold_table(by_threshold, float(setting("churn_probability_threshold"))),
        f"marts.churn_risk as of {as_of}: {listed:,} of {current:,} current customers listed ({listed / current:.0%}), "
        f"{on_probability:,} ({on_probability / current:.0%}) with likely_to_churn",
    ]
    return "\n\n".join(sections) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end-date", type=date.fromisoformat, default=END)
    parser.add_argument("--work-dir", type=Path, help="keep the exports and warehouse here (default: a temp dir)")
    parser.add_argument("--report-only", action="store_true", help="report on the warehouse a run left in --work-dir")
    args = parser.parse_args(argv)
    if args.work_dir is not None:
        args.work_dir.mkdir(parents=True, exist_ok=True)
        if args.report_only:
            database = args.work_dir / "warehouse" / "clientele.duckdb"
        else:
            database = run_demo(args.work_dir, args.customers, args.seed, args.end_date)
        print(report(database))
        return 0
    with tempfile.TemporaryDirectory(prefix="clv_backtest_") as work_dir:
        print(report(run_demo(Path(work_dir), args.customers, args.seed, args.end_date)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
