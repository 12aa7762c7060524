"""A backtest as one long table (model, metric, breakdown, breakdown_value, value) that a warehouse can store,
and the purchase model it chose, read back from that table.

Rows (``breakdown`` null = over every backtested customer):

- with model null and no breakdown, ``n_customers``: every backtested customer, also when no model was fitted;
- per model with a fit: ``calibration_log_likelihood``; with a usable fit, every scalar of ``BacktestMetrics``
  (churn AUC, Brier score, holdout log-likelihood, predicted and observed no-purchase share, predicted and
  actual purchase days, aggregate relative error, per-customer MAE and correlation);
- per model and churn-probability decile (``breakdown`` = ``churn_probability_decile``, value ``01``..``10``
  from the lowest probabilities up): ``n_customers``, ``mean_predicted_no_purchase``,
  ``observed_no_purchase_share``;
- per group of each grouping column (e.g. value tier, lifecycle stage as of the calibration date): with model
  null, what happened (``n_customers``, ``observed_purchase_share`` = share with a purchase in the horizon,
  ``mean_actual_purchase_days``); per model, what it predicted (``predicted_purchase_share`` = mean of
  1 - churn probability, ``mean_predicted_purchase_days``);
- with a ``ChurnList`` (the customers a churn warning list may hold and its probability threshold), per model
  (``breakdown`` = ``churn_list``, value ``listed`` = eligible and above the threshold, or ``not_listed``):
  ``n_customers``, ``share_of_eligible``, ``mean_predicted_no_purchase``, ``observed_no_purchase_share``.

Every row carries the chosen model (null when none was usable) and the reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from clientele_clv.backtest import BacktestReport
from clientele_clv.purchase_models import BG_NBD, churn_probability, expected_purchases

BACKTEST_TABLE_COLUMNS = (
    "model",
    "metric",
    "breakdown",
    "breakdown_value",
    "value",
    "chosen_model",
    "selection_reason",
)
DECILE_BREAKDOWN = "churn_probability_decile"
CHURN_LIST_BREAKDOWN = "churn_list"
DEFAULT_PURCHASE_MODEL = BG_NBD


@dataclass(frozen=True)
class ChurnList:
    """Who a churn warning list may hold (a boolean per customer), the churn probability it lists above, and the
    largest share of the eligible customers it lists (the most likely first)."""

    eligible: np.ndarray
    threshold: float
    max_share: float = 1.0


def _row(model: str | None, metric: str, value: float, breakdown: str | None = None, group: str | None = None):
    value = float(value)
    return {
        "model": model,
        "metric": metric,
        "breakdown": breakdown,
        "breakdown_value": group,
        "value": value if math.isfinite(value) else None,  # undefined (e.g. AUC with one outcome class) = null
    }


def _frame_rows(table: pd.DataFrame, model: str | None, breakdown: str) -> list[dict]:
    """Rows of a table indexed by group with one column per metric."""
    return [
        _row(model, metric, value, breakdown, str(group))
        for group, values in table.iterrows()
        for metric, value in values.items()
    ]


def _observed_group_rows(customers: pd.DataFrame, column: str) -> list[dict]:
    table = customers.groupby(column, sort=True).agg(
        n_customers=("actual", "size"),
        observed_purchase_share=("bought", "mean"),
        mean_actual_purchase_days=("actual", "mean"),
    )
    return _frame_rows(table, None, column)


def _predicted_group_rows(customers: pd.DataFrame, column: str, model: str) -> list[dict]:
    table = customers.groupby(column, sort=True).agg(
        predicted_purchase_share=("purchase_probability", "mean"),
        mean_predicted_purchase_days=("expected", "mean"),
    )
    return _frame_rows(table, model, column)


def _churn_list_rows(customers: pd.DataFrame, churn_list: ChurnList, model: str) -> list[dict]:
    eligible = customers[churn_list.eligible].assign(
        predicted_no_purchase=lambda frame: 1.0 - frame["purchase_probability"],
        no_purchase=lambda frame: 1.0 - frame["bought"],
    )
    # ties broken by position, as churn_risk breaks them by customer key: the capacity is exact
    rank = eligible["predicted_no_purchase"].rank(method="first", ascending=False).to_numpy()
    capacity = churn_list.max_share * len(eligible)
    above = eligible["predicted_no_purchase"].to_numpy() > churn_list.threshold
    listed = np.where(above & (rank <= capacity), "listed", "not_listed")
    table = eligible.groupby(listed, sort=True).agg(
        n_customers=("actual", "size"),
        mean_predicted_no_purchase=("predicted_no_purchase", "mean"),
        observed_no_purchase_share=("no_purchase", "mean"),
    )
    table.insert(1, "share_of_eligible", table["n_customers"] / max(len(eligible), 1))
    return _frame_rows(table, model, CHURN_LIST_BREAKDOWN)


def _decile_rows(deciles: pd.DataFrame, model: str) -> list[dict]:
    table = deciles.set_index(deciles["decile"].map("{:02d}".format))[
        ["n_customers", "mean_predicted", "observed_share"]
    ].rename(columns={"mean_predicted": "mean_predicted_no_purchase", "observed_share": "observed_no_purchase_share"})
    return _frame_rows(table, model, DECILE_BREAKDOWN)


def backtest_table(
    report: BacktestReport,
    frequency,
    recency,
    t,
    holdout_purchase_days,
    groups: pd.DataFrame | None = None,
    group_columns: Sequence[str] = (),
    churn_list: ChurnList | None = None,
) -> pd.DataFrame:
    """The report (from ``backtest_purchase_models`` on the same customers, in the same order) as
    BACKTEST_TABLE_COLUMNS rows; ``groups`` holds one row per customer with the ``group_columns`` (a missing
    group is ``none``)."""
    actual = np.asarray(holdout_purchase_days, dtype=float)
    customers = pd.DataFrame({"actual": actual, "bought": (actual > 0).astype(float)})
    for column in group_columns:
        customers[column] = groups[column].fillna("none").astype(str).to_numpy()
    rows = [_row(None, "n_customers", actual.size)]
    for column in group_columns:
        rows += _observed_group_rows(customers, column)
    for name, backtest in report.models.items():
        if backtest.fit is not None:
            rows.append(_row(name, "calibration_log_likelihood", backtest.fit.log_likelihood))
        if backtest.metrics is None:
            continue
        rows += [_row(name, metric, value) for metric, value in backtest.metrics.values().items()]
        rows += _decile_rows(backtest.metrics.deciles, name)
        params, horizon = backtest.fit.params, report.horizon_days
        predicted = customers.assign(
            purchase_probability=1.0 - churn_probability(name, params, frequency, recency, t, horizon),
            expected=expected_purchases(name, params, horizon, frequency, recency, t),
        )
        for column in group_columns:
            rows += _predicted_group_rows(predicted, column, name)
        if churn_list is not None:
            rows += _churn_list_rows(predicted, churn_list, name)
    table = pd.DataFrame(rows, columns=list(BACKTEST_TABLE_COLUMNS[:5])).assign(
        chosen_model=report.chosen, selection_reason=report.reason
    )
    # text columns typed as text even when every value is null (a warehouse cannot infer a type from nulls)
    text = [c for c in BACKTEST_TABLE_COLUMNS if c != "value"]
    return table.astype({c: "string" for c in text}).astype({"value": float})


def purchase_model_choice(table: pd.DataFrame | pa.Table) -> tuple[str, str]:
    """The purchase model to score with, and why, from a ``backtest_table`` (as stored): the backtest's choice,
    else DEFAULT_PURCHASE_MODEL with the backtest's reason for not choosing."""
    if isinstance(table, pa.Table):
        table = table.select(["chosen_model", "selection_reason"]).to_pandas()
    if table.empty:
        return DEFAULT_PURCHASE_MODEL, f"no backtest: {DEFAULT_PURCHASE_MODEL} by default"
    choices = table[["chosen_model", "selection_reason"]].drop_duplicates()
    if len(choices) != 1:
        raise ValueError(f"a backtest table holds one choice, not {len(choices)}")
    chosen, reason = choices.iloc[0]
    if pd.isna(chosen):
        return DEFAULT_PURCHASE_MODEL, f"the backtest chose no model ({reason}): {DEFAULT_PURCHASE_MODEL} by default"
    return str(chosen), f"chosen by the backtest: {reason}"
