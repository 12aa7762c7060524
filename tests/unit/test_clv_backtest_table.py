"""The backtest as a stored long table, the model choice read back from it, and the Dagster metadata made of it."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import clientele_clv as clv
from clientele_clv.backtest_table import (
    BACKTEST_TABLE_COLUMNS,
    DEFAULT_PURCHASE_MODEL,
    ChurnList,
    backtest_table,
    purchase_model_choice,
)
from orchestration.lib.backtest_metadata import backtest_metadata
from tests.clv_simulation import simulate_bgnbd_customers

HORIZON = 90.0
THRESHOLD = 0.7


@pytest.fixture(scope="module")
def simulated():
    sim = simulate_bgnbd_customers(
        3000, 0.7, 50.0, 1.0, 6.0, T=np.linspace(30, 900, 3000), seed=5, holdout_days=HORIZON
    )
    rng = np.random.default_rng(6)
    groups = pd.DataFrame(
        {
            "value_tier": rng.choice(["A", "B", "C", None], sim.x.size),
            "lifecycle_stage": np.where(sim.T - sim.t_x > 365, "churned", np.where(sim.x > 0, "active", "new")),
        }
    )
    report = clv.backtest_purchase_models(sim.x, sim.t_x, sim.T, sim.holdout_purchases, HORIZON)
    eligible = (groups["lifecycle_stage"] != "churned").to_numpy()
    table = backtest_table(
        report,
        sim.x,
        sim.t_x,
        sim.T,
        sim.holdout_purchases,
        groups,
        ("value_tier", "lifecycle_stage"),
        ChurnList(eligible, THRESHOLD),
    )
    return sim, groups, eligible, report, table


def _value(table: pd.DataFrame, model, metric: str, breakdown=None, group=None) -> float:
    rows = table[
        (table["model"].isna() if model is None else table["model"] == model)
        & (table["metric"] == metric)
        & (table["breakdown"].isna() if breakdown is None else table["breakdown"] == breakdown)
        & (table["breakdown_value"].isna() if group is None else table["breakdown_value"] == group)
    ]
    assert len(rows) == 1, (model, metric, breakdown, group)
    return float(rows["value"].iloc[0])


def test_the_table_holds_every_metric_once_and_the_choice_on_every_row(simulated):
    sim, _, _, report, table = simulated
    assert list(table.columns) == list(BACKTEST_TABLE_COLUMNS)
    assert not table.duplicated(["model", "metric", "breakdown", "breakdown_value"]).any()
    assert report.chosen in {"bg_nbd", "mbg_nbd"}
    assert (table["chosen_model"] == report.chosen).all() and (table["selection_reason"] == report.reason).all()
    assert _value(table, None, "n_customers") == sim.x.size
    for model, backtest in report.models.items():
        for metric, value in backtest.metrics.values().items():
            assert _value(table, model, metric) == pytest.approx(value, nan_ok=True), (model, metric)
        deciles = table[(table["model"] == model) & (table["breakdown"] == "churn_probability_decile")]
        assert sorted(deciles["breakdown_value"].unique()) == [f"{d:02d}" for d in range(1, 11)]
        assert deciles.loc[deciles["metric"] == "n_customers", "value"].sum() == sim.x.size


def test_group_rates_are_what_happened_and_what_each_model_predicted(simulated):
    sim, groups, _, report, table = simulated
    bought = pd.Series(sim.holdout_purchases > 0)
    for stage, expected in bought.groupby(groups["lifecycle_stage"]).mean().items():
        assert _value(table, None, "observed_purchase_share", "lifecycle_stage", stage) == pytest.approx(expected)
    tiers = groups["value_tier"].fillna("none")
    assert _value(table, None, "n_customers", "value_tier", "none") == (tiers == "none").sum()
    params = report.models["bg_nbd"].fit.params
    predicted = 1 - clv.churn_probability("bg_nbd", params, sim.x, sim.t_x, sim.T, HORIZON)
    for tier, expected in pd.Series(predicted).groupby(tiers).mean().items():
        assert _value(table, "bg_nbd", "predicted_purchase_share", "value_tier", tier) == pytest.approx(expected)


def test_the_churn_list_rows_split_eligible_customers_at_the_threshold(simulated):
    sim, _, eligible, report, table = simulated
    params = report.models[report.chosen].fit.params
    probability = clv.churn_probability(report.chosen, params, sim.x, sim.t_x, sim.T, HORIZON)
    listed = eligible & (probability > THRESHOLD)
    not_listed = eligible & ~(probability > THRESHOLD)
    silent = sim.holdout_purchases == 0
    assert _value(table, report.chosen, "n_customers", "churn_list", "listed") == listed.sum()
    assert _value(table, report.chosen, "n_customers", "churn_list", "not_listed") == not_listed.sum()
    assert _value(table, report.chosen, "share_of_eligible", "churn_list", "listed") == pytest.approx(
        listed.sum() / eligible.sum()
    )
    observed = _value(table, report.chosen, "observed_no_purchase_share", "churn_list", "listed")
    assert observed == pytest.approx(silent[listed].mean())
    # the simulated customers are BG/NBD customers: the listed ones really are the quiet ones
    assert observed - silent[not_listed].mean() > 0.15


def test_the_choice_reads_back_from_the_stored_table_and_defaults_without_one(simulated):
    _, _, _, report, table = simulated
    model, reason = purchase_model_choice(pa.Table.from_pandas(table, preserve_index=False))
    assert model == report.chosen and reason == f"chosen by the backtest: {report.reason}"

    few = clv.backtest_purchase_models([0.0, 1.0], [0.0, 5.0], [10.0, 20.0], [0.0, 1.0], HORIZON)
    empty = backtest_table(few, [0.0, 1.0], [0.0, 5.0], [10.0, 20.0], [0.0, 1.0])
    assert empty["metric"].tolist() == ["n_customers"] and empty["model"].isna().all()
    model, reason = purchase_model_choice(empty)
    assert model == DEFAULT_PURCHASE_MODEL and reason.startswith("the backtest chose no model (")
    assert purchase_model_choice(empty.iloc[0:0])[0] == DEFAULT_PURCHASE_MODEL
    with pytest.raises(ValueError, match="one choice"):
        purchase_model_choice(pd.concat([table, empty]))


def test_the_dagster_metadata_shows_the_backtest_a_calibration_chart_and_plottable_figures(simulated):
    _, _, _, report, table = simulated
    rows = table.assign(
        is_chosen=(table["model"] == report.chosen).fillna(False),
        calibration_date=date(2026, 4, 1),
        horizon_days=int(HORIZON),
    )
    metadata = backtest_metadata(rows, report.reason)
    assert metadata["chosen_model"].value == report.chosen
    assert metadata["selection_reason"].value == report.reason
    assert metadata["calibration_date"].value == "2026-04-01" and metadata["horizon_days"] == 90
    assert metadata["churn_auc"] == pytest.approx(report.models[report.chosen].metrics.churn_auc)
    assert isinstance(metadata["aggregate_relative_error"], float)
    assert f"{report.chosen} (chosen)" in metadata["backtest"].value
    chart = metadata["calibration"].value.splitlines()
    decile_lines = [line for line in chart if line.startswith("| 0") or line.startswith("| 10")]
    assert len(decile_lines) == 10 and all("█" in line or "░" in line for line in decile_lines)
    assert "| lifecycle_stage | churned |" in metadata["purchase_rates"].value
    assert "| listed |" in metadata["churn_list"].value

    nothing = rows[rows["model"].isna() & rows["breakdown"].isna()].assign(is_chosen=False)
    bare = backtest_metadata(nothing, "no purchase model has a usable fit")
    assert bare["chosen_model"].value == "none" and "backtest" not in bare


def test_a_churn_list_with_a_capacity_lists_only_the_most_likely_above_the_threshold(simulated):
    sim, groups, eligible, report, _ = simulated
    params = report.models[report.chosen].fit.params
    probability = clv.churn_probability(report.chosen, params, sim.x, sim.t_x, sim.T, HORIZON)
    above = eligible & (probability > THRESHOLD)
    max_share = 0.5 * above.sum() / eligible.sum()  # half of those above the threshold fit
    table = backtest_table(
        report,
        sim.x,
        sim.t_x,
        sim.T,
        sim.holdout_purchases,
        groups,
        ("value_tier", "lifecycle_stage"),
        ChurnList(eligible, THRESHOLD, max_share),
    )
    capacity = int(np.floor(max_share * eligible.sum()))
    assert _value(table, report.chosen, "n_customers", "churn_list", "listed") == capacity
    cutoff = np.sort(probability[eligible])[::-1][capacity - 1]
    listed_share = _value(table, report.chosen, "mean_predicted_no_purchase", "churn_list", "listed")
    assert listed_share >= cutoff and listed_share == pytest.approx(
        np.sort(probability[eligible])[::-1][:capacity].mean()
    )
