"""Backtest metrics against hand-computed small cases and independent brute-force computations; the model
selection rule case by case; and a backtest on simulated customers choosing the model that generated them."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

import clientele_clv as clv
from clientele_clv.backtest import PROBABILITY_FLOOR, BacktestMetrics
from tests.clv_simulation import simulate_bgnbd_customers, simulate_mbgnbd_customers

PROBABILITY = np.array([0.1, 0.4, 0.35, 0.8])
CHURNED = np.array([0, 0, 1, 1])


def auc_by_pair_counting(probability, churned) -> float:
    """Over every (churned, bought) pair: 1 when the churned customer has the higher probability, 1/2 on a tie."""
    churners = [p for p, c in zip(probability, churned, strict=True) if c == 1]
    buyers = [p for p, c in zip(probability, churned, strict=True) if c == 0]
    wins = sum(1.0 if p > q else 0.5 if p == q else 0.0 for p, q in itertools.product(churners, buyers))
    return wins / (len(churners) * len(buyers))


def test_auc_by_hand_and_by_pair_counting():
    # pairs (churned, bought): (.35,.1) win, (.35,.4) loss, (.8,.1) win, (.8,.4) win
    assert clv.churn_auc(PROBABILITY, CHURNED) == pytest.approx(0.75)
    # a tie counts one half: (.5,.5) tie, (.5,.2) (.9,.5) (.9,.2) wins
    assert clv.churn_auc([0.5, 0.5, 0.2, 0.9], [1, 0, 0, 1]) == pytest.approx(3.5 / 4)
    rng = np.random.default_rng(1)
    probability = np.round(rng.uniform(size=400), 1)  # many ties
    churned = (rng.uniform(size=400) < probability).astype(int)
    assert clv.churn_auc(probability, churned) == pytest.approx(auc_by_pair_counting(probability, churned), rel=1e-12)
    assert clv.churn_auc(1 - probability, churned) == pytest.approx(1 - clv.churn_auc(probability, churned), rel=1e-12)
    assert math.isnan(clv.churn_auc([0.2, 0.3], [1, 1]))
    with pytest.raises(ValueError):
        clv.churn_auc([0.2, 1.3], [1, 0])
    with pytest.raises(ValueError):
        clv.churn_auc([0.2, 0.3], [1, 2])


def test_brier_score_and_log_likelihood_by_hand():
    # (.1-0)^2 + (.4-0)^2 + (.35-1)^2 + (.8-1)^2 = .01 + .16 + .4225 + .04
    assert clv.brier_score(PROBABILITY, CHURNED) == pytest.approx(0.6325 / 4)
    expected = math.log(0.9) + math.log(0.6) + math.log(0.35) + math.log(0.8)
    assert clv.bernoulli_log_likelihood(PROBABILITY, CHURNED) == pytest.approx(expected, rel=1e-14)
    # a certain prediction that goes wrong costs log(floor), not -inf; one that comes true costs ~nothing
    assert clv.bernoulli_log_likelihood([1.0, 0.0], [0, 0]) == pytest.approx(math.log(PROBABILITY_FLOOR), rel=1e-6)
    assert clv.bernoulli_log_likelihood([1.0], [1]) == pytest.approx(0.0, abs=1e-11)
    rng = np.random.default_rng(2)
    probability = rng.uniform(0.01, 0.99, 200)
    outcome = (rng.uniform(size=200) < probability).astype(int)
    by_loop = math.fsum(math.log(p if y else 1 - p) for p, y in zip(probability, outcome, strict=True))
    assert clv.bernoulli_log_likelihood(probability, outcome) == pytest.approx(by_loop, rel=1e-12)
    by_loop = math.fsum((p - y) ** 2 for p, y in zip(probability, outcome, strict=True)) / 200
    assert clv.brier_score(probability, outcome) == pytest.approx(by_loop, rel=1e-12)


def test_decile_table_by_hand_and_with_ties():
    probability = np.arange(1, 21) / 21.0
    outcome = np.array([0, 0] * 5 + [1, 0] * 3 + [1, 1] * 2)
    table = clv.decile_table(probability[::-1], outcome[::-1])  # input order does not matter
    assert table["decile"].tolist() == list(range(1, 11)) and (table["n_customers"] == 2).all()
    np.testing.assert_allclose(table["mean_predicted"], (probability[0::2] + probability[1::2]) / 2)
    assert table["observed_share"].tolist() == [0, 0, 0, 0, 0, 0.5, 0.5, 0.5, 1, 1]
    assert (table["min_predicted"] <= table["mean_predicted"]).all()
    assert (table["mean_predicted"] <= table["max_predicted"]).all()

    # two tie blocks of five: they start at positions 0 and 5 of 10, hence deciles 1 and 6
    tied = clv.decile_table([0.2] * 5 + [0.1] * 5, [1, 1, 0, 0, 0, 1, 0, 0, 0, 0])
    assert tied["decile"].tolist() == [1, 6] and tied["n_customers"].tolist() == [5, 5]
    assert tied["observed_share"].tolist() == [0.2, 0.4] and tied["mean_predicted"].tolist() == [0.1, 0.2]
    assert clv.decile_table([], []).empty


def test_decile_table_matches_a_brute_force_grouping():
    rng = np.random.default_rng(3)
    probability = np.round(rng.beta(2, 2, 1003), 2)
    outcome = (rng.uniform(size=1003) < probability).astype(int)
    table = clv.decile_table(probability, outcome).set_index("decile")
    n = probability.size
    for decile in range(1, 11):
        members = [
            i for i in range(n) if min(sum(probability < probability[i]) * 10 // n, 9) + 1 == decile
        ]  # position of the first equal value in the ascending order
        if not members:
            assert decile not in table.index
            continue
        assert table.loc[decile, "n_customers"] == len(members)
        assert table.loc[decile, "observed_share"] == pytest.approx(outcome[members].mean(), rel=1e-12)
        assert table.loc[decile, "mean_predicted"] == pytest.approx(probability[members].mean(), rel=1e-12)
    assert table["n_customers"].sum() == n


def test_purchase_count_errors_by_hand_and_against_numpy():
    assert clv.aggregate_relative_error([1, 2, 3], [2, 2, 1]) == pytest.approx(6 / 5 - 1)
    assert clv.mean_absolute_error([1, 2, 3], [2, 2, 1]) == pytest.approx(1.0)
    assert clv.pearson_correlation([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(clv.pearson_correlation([1, 2, 3], [2, 2, 2]))
    assert math.isnan(clv.aggregate_relative_error([1.0], [0.0]))
    rng = np.random.default_rng(4)
    predicted, actual = rng.gamma(1.0, 2.0, 500), rng.poisson(2.0, 500)
    assert clv.pearson_correlation(predicted, actual) == pytest.approx(np.corrcoef(predicted, actual)[0, 1], rel=1e-12)


def test_evaluate_backtest_combines_the_metrics():
    probability = np.array([0.9, 0.2, 0.6, 0.05])
    expected = np.array([0.1, 1.5, 0.5, 3.0])
    actual = np.array([0, 2, 1, 0])
    metrics = clv.evaluate_backtest(probability, expected, actual)
    churned = np.array([1, 0, 0, 1])
    assert metrics.n_customers == 4
    assert metrics.churn_auc == clv.churn_auc(probability, churned) == pytest.approx(0.5)
    assert metrics.brier_score == clv.brier_score(probability, churned)
    assert metrics.log_likelihood == clv.bernoulli_log_likelihood(probability, churned)
    assert metrics.observed_no_purchase_share == 0.5 and metrics.predicted_no_purchase_share == pytest.approx(0.4375)
    assert (metrics.predicted_purchase_days, metrics.actual_purchase_days) == (pytest.approx(5.1), 3.0)
    assert metrics.aggregate_relative_error == pytest.approx(5.1 / 3 - 1)
    assert metrics.mean_absolute_error == pytest.approx((0.1 + 0.5 + 0.5 + 3.0) / 4)
    assert metrics.correlation == pytest.approx(np.corrcoef(expected, actual)[0, 1])
    assert metrics.deciles["n_customers"].sum() == 4
    with pytest.raises(ValueError):
        clv.evaluate_backtest(probability, expected, -actual)


def metrics_with(log_likelihood: float, auc: float) -> BacktestMetrics:
    return BacktestMetrics(
        n_customers=10,
        churn_auc=auc,
        brier_score=0.1,
        log_likelihood=log_likelihood,
        predicted_no_purchase_share=0.5,
        observed_no_purchase_share=0.5,
        predicted_purchase_days=1.0,
        actual_purchase_days=1.0,
        aggregate_relative_error=0.0,
        mean_absolute_error=0.0,
        correlation=1.0,
        deciles=pd.DataFrame(),
    )


def test_model_selection_rule():
    select = clv.select_purchase_model
    chosen, reason = select({"bg_nbd": metrics_with(-100, 0.70), "mbg_nbd": metrics_with(-90, 0.75)})
    assert chosen == "mbg_nbd" and "better" in reason
    # a split goes to the higher log-likelihood
    chosen, reason = select({"bg_nbd": metrics_with(-100, 0.80), "mbg_nbd": metrics_with(-90, 0.75)})
    assert chosen == "mbg_nbd" and "split" in reason
    chosen, reason = select({"bg_nbd": metrics_with(-90, 0.70), "mbg_nbd": metrics_with(-100, 0.75)})
    assert chosen == "bg_nbd" and "split" in reason
    # a tie on the log-likelihood goes to the higher AUC, a tie on both to the model listed first
    assert select({"bg_nbd": metrics_with(-90, 0.70), "mbg_nbd": metrics_with(-90, 0.75)})[0] == "mbg_nbd"
    assert select({"bg_nbd": metrics_with(-90, 0.75), "mbg_nbd": metrics_with(-90, 0.75)})[0] == "bg_nbd"
    assert select({"mbg_nbd": metrics_with(-90, 0.75), "bg_nbd": metrics_with(-90, 0.75)})[0] == "mbg_nbd"
    # a single outcome class leaves the AUC undefined: the log-likelihood decides
    assert select({"bg_nbd": metrics_with(-80, math.nan), "mbg_nbd": metrics_with(-90, math.nan)})[0] == "bg_nbd"
    # only usable fits compete
    assert select({"bg_nbd": None, "mbg_nbd": metrics_with(-90, 0.75)})[0] == "mbg_nbd"
    assert select({"bg_nbd": None, "mbg_nbd": None}) == (None, pytest.approx(select({})[1]))
    assert select({"bg_nbd": metrics_with(-math.inf, 0.9), "mbg_nbd": metrics_with(-90, 0.75)})[0] == "mbg_nbd"


@pytest.mark.parametrize(
    ("generator", "truth"), [(simulate_bgnbd_customers, "bg_nbd"), (simulate_mbgnbd_customers, "mbg_nbd")]
)
def test_backtest_on_simulated_customers_chooses_the_model_that_generated_them(generator, truth):
    """Parameters where the two dropout rules differ clearly (r=1, alpha=60 days, a=1.5, b=3): over six
    seeds at this size the generating model's holdout log-likelihood was ahead by 75-103 nats (MBG/NBD
    data) and 360-460 nats (BG/NBD data), about 7 standard deviations of that margin or more."""
    n = 30_000
    T = np.random.default_rng(100).integers(30, 1100, n).astype(float)
    sim = generator(n, 1.0, 60.0, 1.5, 3.0, T=T, seed=200, holdout_days=90)
    report = clv.backtest_purchase_models(sim.x, np.floor(sim.t_x), sim.T, sim.holdout_purchases, 90)
    assert report.chosen == truth, report.reason
    other = "mbg_nbd" if truth == "bg_nbd" else "bg_nbd"
    best, second = report.models[truth].metrics, report.models[other].metrics
    assert best.log_likelihood > second.log_likelihood and best.churn_auc > second.churn_auc
    # what the report stores: every metric per model, the calibration fit included, and both decile tables
    frame = report.metrics_frame()
    assert set(frame["model"]) == {"bg_nbd", "mbg_nbd"}
    assert {"calibration_log_likelihood", "churn_auc", "brier_score", "log_likelihood"} <= set(frame["metric"])
    deciles = report.deciles_frame()
    assert deciles.groupby("model")["n_customers"].sum().tolist() == [n, n]
    # the generating model's predicted no-purchase share per decile tracks what happened: 3,000 customers a
    # decile give the observed share a standard error below 0.01, so 0.05 leaves room for estimation error
    truth_deciles = deciles[deciles["model"] == truth]
    assert np.abs(truth_deciles["mean_predicted"] - truth_deciles["observed_share"]).max() < 0.05
    # total purchase days: their simulated total has a relative standard error of about 2% here
    assert best.churn_auc > 0.75 and abs(best.aggregate_relative_error) < 0.08


def test_backtest_refuses_too_few_customers():
    report = clv.backtest_purchase_models([0, 1, 2], [0, 5, 9], [10, 10, 10], [0, 0, 1], 90)
    assert report.chosen is None
    assert all(
        backtest.metrics is None and "clv_min_customers" in backtest.message for backtest in report.models.values()
    )
    assert report.metrics_frame().empty and report.deciles_frame().empty
