"""The docs' churn-list threshold table (benchmarks/clv_backtest_report.py) on simulated customers: the capacity
caps the list, and the no-purchase shares are those of the customers whose churn probability is above each
threshold, recomputed here from the chosen model's fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import clientele_clv as clv
from benchmarks.clv_backtest_report import churn_list_by_threshold
from tests.clv_simulation import simulate_bgnbd_customers

HORIZON = 90.0
THRESHOLDS = (0.3, 0.5, 0.7, 0.9)
MAX_SHARE = 0.3


@pytest.fixture(scope="module")
def by_threshold():
    sim = simulate_bgnbd_customers(
        2000, 0.7, 50.0, 1.0, 6.0, T=np.linspace(30, 900, 2000), seed=11, holdout_days=HORIZON
    )
    customers = pd.DataFrame(
        {"frequency": sim.x, "recency": sim.t_x, "t": sim.T, "holdout_purchase_days": sim.holdout_purchases}
    )
    report = clv.backtest_purchase_models(sim.x, sim.t_x, sim.T, sim.holdout_purchases, HORIZON)
    eligible = (sim.T - sim.t_x <= 365) & (np.arange(sim.x.size) % 4 != 0)  # recent buyers, a quarter left out
    fit = report.models[report.chosen].fit
    probability = clv.churn_probability(report.chosen, fit.params, sim.x, sim.t_x, sim.T, HORIZON)
    table = churn_list_by_threshold(report, customers, eligible, THRESHOLDS, MAX_SHARE)
    return table.set_index("threshold"), probability[eligible], sim.holdout_purchases[eligible] == 0


def test_without_the_capacity_the_list_is_every_eligible_customer_above_the_threshold(by_threshold):
    table, probability, no_purchase = by_threshold
    for threshold in THRESHOLDS:
        above = probability > threshold
        row = table.loc[threshold]
        assert row["share_listed_uncapped"] == pytest.approx(above.mean())
        assert row["no_purchase_listed_uncapped"] == pytest.approx(no_purchase[above].mean())
        assert row["no_purchase_not_listed_uncapped"] == pytest.approx(no_purchase[~above].mean())


def test_the_capacity_caps_the_list_and_keeps_the_most_likely(by_threshold):
    table, probability, no_purchase = by_threshold
    n = probability.size
    capped = table["share_listed"].to_numpy()
    assert np.allclose(capped, np.minimum(table["share_listed_uncapped"], np.floor(MAX_SHARE * n) / n))
    assert table["share_listed_uncapped"].iloc[0] > MAX_SHARE  # the lowest threshold is capped here
    most_likely = np.argsort(-probability, kind="stable")[: int(np.floor(MAX_SHARE * n))]
    assert table["no_purchase_listed"].iloc[0] == pytest.approx(no_purchase[most_likely].mean(), abs=0.01)
