"""The model_backtest asset's materialization metadata: what the Dagster UI shows of the run's backtest.

The UI renders markdown tables (not inline images or SVG: its sanitiser allows http(s) image sources only), so
the calibration chart is a table of text bars. The chosen model's headline figures are numeric metadata, which
the UI also plots across materializations (the asset's Plots tab): how the backtest evolves night after night.
"""

from __future__ import annotations

import math

import dagster as dg
import pandas as pd

HEADLINE_METRICS = (
    "churn_auc",
    "brier_score",
    "aggregate_relative_error",
    "mean_absolute_error",
    "correlation",
    "observed_no_purchase_share",
    "predicted_no_purchase_share",
)
OVERALL_METRICS = (
    "n_customers",
    *HEADLINE_METRICS,
    "log_likelihood",
    "predicted_purchase_days",
    "actual_purchase_days",
    "calibration_log_likelihood",
)
BAR_WIDTH = 20


def _number(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    value = float(value)
    return f"{value:,.0f}" if value.is_integer() or abs(value) >= 100 else f"{value:.3f}"


def _bar(share) -> str:
    """A probability as a bar of BAR_WIDTH cells, in a code span so that every cell has the same width."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return ""
    filled = round(min(max(float(share), 0.0), 1.0) * BAR_WIDTH)
    return "`" + "█" * filled + "░" * (BAR_WIDTH - filled) + "`"


def _table(header: list[str], rows: list[list[str]], numeric_from: int = 1) -> str:
    align = ["---" if i < numeric_from else "---:" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _overall_markdown(overall: pd.DataFrame, models: list[str], chosen: str | None) -> str:
    values = overall.pivot_table(index="metric", columns="model", values="value", aggfunc="first")
    header = ["metric", *[f"{model} (chosen)" if model == chosen else model for model in models]]
    rows = [
        [metric, *[_number(values.at[metric, model]) if model in values.columns else "n/a" for model in models]]
        for metric in OVERALL_METRICS
        if metric in values.index
    ]
    return _table(header, rows)


def _calibration_markdown(deciles: pd.DataFrame) -> str:
    values = deciles.pivot_table(index="breakdown_value", columns="metric", values="value", aggfunc="first")
    rows = [
        [
            decile,
            _number(row.get("n_customers")),
            _number(row.get("mean_predicted_no_purchase")),
            _bar(row.get("mean_predicted_no_purchase")),
            _number(row.get("observed_no_purchase_share")),
            _bar(row.get("observed_no_purchase_share")),
        ]
        for decile, row in values.sort_index().iterrows()
    ]
    header = ["decile", "customers", "predicted", "predicted (bar)", "observed", "observed (bar)"]
    return _table(header, rows)


def _group_markdown(groups: pd.DataFrame, chosen: str | None) -> str:
    observed = groups[groups["model"].isna()]
    predicted = groups[groups["model"] == chosen] if chosen else groups.iloc[0:0]
    rows = []
    for (breakdown, group), part in observed.groupby(["breakdown", "breakdown_value"], sort=True):
        measured = dict(zip(part["metric"], part["value"], strict=True))
        forecast = predicted[(predicted["breakdown"] == breakdown) & (predicted["breakdown_value"] == group)]
        forecast_values = dict(zip(forecast["metric"], forecast["value"], strict=True))
        rows.append(
            [
                breakdown,
                group,
                _number(measured.get("n_customers")),
                _number(measured.get("observed_purchase_share")),
                _number(forecast_values.get("predicted_purchase_share")),
                _number(measured.get("mean_actual_purchase_days")),
                _number(forecast_values.get("mean_predicted_purchase_days")),
            ]
        )
    header = [
        "as of the calibration date",
        "group",
        "customers",
        "bought again (share)",
        "predicted share",
        "purchase days (mean)",
        "predicted days",
    ]
    return _table(header, rows, numeric_from=2)


def _churn_list_markdown(churn_list: pd.DataFrame) -> str:
    values = churn_list.pivot_table(index="breakdown_value", columns="metric", values="value", aggfunc="first")
    rows = [
        [
            group,
            _number(row.get("n_customers")),
            _number(row.get("share_of_eligible")),
            _number(row.get("mean_predicted_no_purchase")),
            _number(row.get("observed_no_purchase_share")),
        ]
        for group, row in values.sort_index().iterrows()
    ]
    header = ["current customers", "customers", "share", "predicted no purchase", "observed no purchase"]
    return _table(header, rows)


def backtest_metadata(rows: pd.DataFrame, selection_reason: str | None) -> dict:
    """Metadata from model_backtest's rows (model, metric, breakdown, breakdown_value, value, is_chosen,
    calibration_date, horizon_days) and the reason for the choice."""
    chosen_rows = rows[rows["is_chosen"].astype(bool)]
    chosen = str(chosen_rows["model"].iloc[0]) if len(chosen_rows) else None
    metadata: dict = {
        "chosen_model": dg.MetadataValue.text(chosen or "none"),
        "selection_reason": dg.MetadataValue.text(selection_reason or "no backtest"),
    }
    if len(rows):
        metadata["calibration_date"] = dg.MetadataValue.text(str(pd.Timestamp(rows["calibration_date"].iloc[0]).date()))
        metadata["horizon_days"] = int(rows["horizon_days"].iloc[0])
    overall = rows[rows["breakdown"].isna() & rows["model"].notna()]
    models = sorted(overall["model"].unique())
    if chosen is None or overall.empty:
        return metadata
    headline = overall[overall["model"] == chosen].set_index("metric")["value"]
    for metric in HEADLINE_METRICS:
        value = headline.get(metric)
        if value is not None and math.isfinite(value):
            metadata[metric] = float(value)
    metadata["backtest"] = dg.MetadataValue.md(_overall_markdown(overall, models, chosen))
    deciles = rows[(rows["breakdown"] == "churn_probability_decile") & (rows["model"] == chosen)]
    if len(deciles):
        metadata["calibration"] = dg.MetadataValue.md(
            f"Churn probability vs what happened, per decile of {chosen}'s churn probability "
            f"(01 = lowest):\n\n{_calibration_markdown(deciles)}"
        )
    groups = rows[rows["breakdown"].isin(["value_tier", "lifecycle_stage"])]
    if len(groups):
        metadata["purchase_rates"] = dg.MetadataValue.md(_group_markdown(groups, chosen))
    churn_list = rows[(rows["breakdown"] == "churn_list") & (rows["model"] == chosen)]
    if len(churn_list):
        metadata["churn_list"] = dg.MetadataValue.md(_churn_list_markdown(churn_list))
    return metadata
