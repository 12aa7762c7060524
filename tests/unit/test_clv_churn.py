"""P(no purchase in the next t days | x, t_x, T) for the BG/NBD and the MBG/NBD: the closed form against
numerical integration over the posterior and against simulated futures; churn_probability as an interface
and in scoring; its power to pick out customers who stop buying."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad
from scipy.special import betaln

import clientele_clv as clv
from clientele_clv.backtest import churn_auc
from tests.clv_simulation import simulate_bgnbd_customers, simulate_gamma_gamma_spend, simulate_mbgnbd_customers

PARAMS = (0.25, 30.0, 0.8, 2.5)  # CDNOW estimates with alpha in days, as in the other CLV tests
MODELS = {
    "bg_nbd": (clv.BgNbdParams(*PARAMS), simulate_bgnbd_customers, 0),
    "mbg_nbd": (clv.MbgNbdParams(*PARAMS), simulate_mbgnbd_customers, 1),
}
HORIZON = 90.0


def no_purchase_by_numerical_integration(params, d: int, t: float, x: float, t_x: float, T: float) -> float:
    """P(X(t)=0 | x, t_x, T) from the model's definition, every integral by quadrature: the customer is alive
    at T with weight E_p[(1-p)^(x+d)] E_lambda[lambda^x e^(-lambda T)], gone with weight E_p[p (1-p)^(x+d-1)]
    E_lambda[lambda^x e^(-lambda t_x)]; an alive customer stays silent with probability e^(-lambda t)."""
    r, alpha, a, b = params

    def beta_moment(power_p: float, power_q: float) -> float:
        # E[p^power_p (1-p)^power_q], p ~ Beta(a, b), with the Beta density as QUADPACK's algebraic weight
        value, _ = quad(lambda p: 1.0, 0, 1, weight="alg", wvar=(a - 1 + power_p, b - 1 + power_q))
        return value / math.exp(betaln(a, b))

    def gamma_moment(decay: float) -> float:
        # E[lambda^x e^(-lambda decay)], lambda ~ Gamma(r, alpha), integrated over u = log(lambda) (smooth)
        def integrand(u):
            return math.exp((r + x) * u - (alpha + decay) * math.exp(u) + r * math.log(alpha) - math.lgamma(r))

        value, _ = quad(integrand, -300.0, 10.0, epsabs=0, epsrel=1e-12, limit=500)
        return value

    alive = beta_moment(0, x + d)
    gone = beta_moment(1, x + d - 1) * gamma_moment(t_x) if x + d > 0 else 0.0
    return (alive * gamma_moment(T + t) + gone) / (alive * gamma_moment(T) + gone)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize(
    ("t", "x", "t_x", "T"),
    [(90, 0, 0, 10), (90, 0, 0, 700), (30, 1, 5, 400), (90, 3, 350, 365), (365, 6, 100, 900), (90, 10, 600, 610)],
)
def test_closed_form_matches_numerical_integration_over_the_posterior(model, t, x, t_x, T):
    params, _, d = MODELS[model]
    expected = no_purchase_by_numerical_integration(params, d, t, x, t_x, T)
    assert clv.churn_probability(model, params, x, t_x, T, t) == pytest.approx(expected, rel=1e-8)
    # and it is one minus the probability of at least one purchase, which E[X(t)] bounds from above
    assert 1 - clv.churn_probability(model, params, x, t_x, T, t) <= clv.expected_purchases(model, params, t, x, t_x, T)


@pytest.mark.parametrize("model", MODELS)
def test_closed_form_matches_simulated_futures(model):
    """Simulated customers (known parameters), grouped by their calibration summary: within each group the
    number who made no purchase in the next 90 days must match the sum of their P(X(90)=0). The x = 0
    groups condition exactly (t_x = 0, T from a grid); the others on x band, recency band and T, which is
    exact for this comparison because each customer is compared with their own probability. Under the
    closed form the count is a sum of independent Bernoullis, so z = (observed - sum p) / sqrt(sum p(1-p))
    is ~N(0, 1) per group: |z| < 4 has a false alarm chance of ~6e-5 per group. Two plausible wrong
    formulas (1 - P(alive), and ignoring dropout) fail the same check by far, so it has power."""
    params, simulate, _ = MODELS[model]
    n = 400_000
    T = np.random.default_rng(41).choice([60.0, 180.0, 365.0, 730.0], n)
    sim = simulate(n, *params, T=T, seed=42, holdout_days=HORIZON)
    silent = sim.holdout_purchases == 0
    probability = clv.churn_probability(model, params, sim.x, sim.t_x, sim.T, HORIZON)
    r, alpha = params.r, params.alpha
    wrong = {
        "1 - p_alive": 1 - clv.p_alive(model, params, sim.x, sim.t_x, sim.T),
        "no dropout": ((alpha + sim.T) / (alpha + sim.T + HORIZON)) ** (r + sim.x),
    }

    x_band = np.select([sim.x == 0, sim.x == 1, sim.x <= 3], [0, 1, 2], 3)
    recency_band = np.where(sim.x == 0, 0, np.digitize(sim.t_x / sim.T, [0.5, 0.9]))
    groups = pd.DataFrame({"T": sim.T, "x_band": x_band, "recency_band": recency_band}).groupby(
        ["T", "x_band", "recency_band"]
    )
    z_scores, wrong_z = [], {name: [] for name in wrong}
    for _, rows in groups.indices.items():
        if rows.size < 500:
            continue
        p = probability[rows]
        z_scores.append((silent[rows].sum() - p.sum()) / math.sqrt(np.sum(p * (1 - p))))
        for name, values in wrong.items():
            q = np.clip(values[rows], 1e-9, 1 - 1e-9)
            wrong_z[name].append((silent[rows].sum() - q.sum()) / math.sqrt(np.sum(q * (1 - q))))
    assert len(z_scores) >= 30
    assert np.max(np.abs(z_scores)) < 4, z_scores
    for name, values in wrong_z.items():
        assert np.max(np.abs(values)) > 10, name


# Computed once with pymc-marketing 0.19.2 in a throwaway virtualenv outside the project (BetaGeoModel with a
# one-draw posterior r=0.25, alpha=30, a=0.8, b=2.5; expected_probability_no_purchase(t=90)): an independent
# implementation of the BG/NBD P(X(90)=0), printed to 12 significant digits. Only repeat buyers are compared:
# for x = 0 it returns 0.837761504064 (T=10) and 0.994149886658 (T=1500), as if a customer without repeat
# purchases could have dropped out, which the BG/NBD rules out. Simulation sides with the closed form here:
# of 1.86M simulated x = 0 customers with T = 10, 0.74457 (SE 0.0003) made no purchase in 90 days, against
# 0.744782 from the closed form (and see test_closed_form_matches_simulated_futures).
PYMC_MARKETING_CASES = [(1, 50, 60), (4, 300, 700), (12, 350, 365), (2, 20, 1000)]
PYMC_MARKETING_NO_PURCHASE_90D = [0.57720344798, 0.92570563939, 0.160811801134, 0.999172696384]


def test_bgnbd_closed_form_agrees_with_an_independent_implementation_for_repeat_buyers():
    x, t_x, T = (np.array(column, dtype=float) for column in zip(*PYMC_MARKETING_CASES, strict=True))
    got = clv.churn_probability("bg_nbd", PARAMS, x, t_x, T, 90.0)
    np.testing.assert_allclose(got, PYMC_MARKETING_NO_PURCHASE_90D, rtol=1e-10)


def test_bgnbd_one_time_buyers_all_look_alive_but_their_churn_probability_still_ranks():
    """The issue in one test: for BG/NBD one-time buyers 1 - p_alive is 0 for everybody (AUC exactly 0.5),
    while P(X(90)=0) rises with their silence and separates those who stay silent."""
    params = clv.BgNbdParams(*PARAMS)
    n = 200_000
    sim = simulate_bgnbd_customers(n, *params, T=np.random.default_rng(5).uniform(1, 1000, n), seed=6, holdout_days=90)
    one_time = sim.x == 0
    x, t_x, T = sim.x[one_time], sim.t_x[one_time], sim.T[one_time]
    silent = sim.holdout_purchases[one_time] == 0
    assert churn_auc(1 - clv.bgnbd_p_alive(params, x, t_x, T), silent) == 0.5
    # null SD of the AUC here is about sqrt((n0 + n1 + 1) / (12 n0 n1)) < 0.005
    assert churn_auc(clv.churn_probability("bg_nbd", params, x, t_x, T, HORIZON), silent) > 0.6


def test_fitted_churn_probability_picks_out_customers_who_stop():
    """MBG/NBD customers who really stop: the fitted model's churn probability ranks next quarter's silent
    customers far better than chance and about as well as the true parameters do, and better than
    1 - P(alive). At this size the AUC's null SD is about 0.003, so 0.75 is a large margin over 0.5."""
    params = clv.MbgNbdParams(*PARAMS)
    n = 100_000
    sim = simulate_mbgnbd_customers(
        n, *params, T=np.random.default_rng(7).uniform(30, 1100, n), seed=8, holdout_days=90
    )
    silent = sim.holdout_purchases == 0
    fit = clv.fit_mbgnbd(sim.x, sim.t_x, sim.T)
    assert fit.converged, fit.message
    fitted_auc = churn_auc(clv.churn_probability("mbg_nbd", fit.params, sim.x, sim.t_x, sim.T, HORIZON), silent)
    true_auc = churn_auc(clv.churn_probability("mbg_nbd", params, sim.x, sim.t_x, sim.T, HORIZON), silent)
    alive_auc = churn_auc(1 - clv.mbgnbd_p_alive(fit.params, sim.x, sim.t_x, sim.T), silent)
    assert fitted_auc > 0.75
    assert fitted_auc == pytest.approx(true_auc, abs=0.005)
    assert fitted_auc > alive_auc


def test_churn_probability_interface():
    params = clv.BgNbdParams(*PARAMS)
    x, t_x, T = np.array([0.0, 2.0]), np.array([0.0, 100.0]), np.array([50.0, 300.0])
    assert (clv.churn_probability("bg_nbd", params, x, t_x, T, 0.0) == 1.0).all()
    # in the long run everybody alive buys again: P(no purchase ever) = 1 - P(alive), reached slowly for r < 1
    for horizon, tolerance in ((1e9, 0.02), (1e30, 1e-7)):
        long_run = clv.churn_probability("bg_nbd", params, x, t_x, T, horizon)
        gone = 1 - clv.bgnbd_p_alive(params, x, t_x, T)
        assert (long_run >= gone).all()
        np.testing.assert_allclose(long_run, gone, rtol=0, atol=tolerance)
    shorter, longer = (clv.churn_probability("bg_nbd", params, x, t_x, T, h) for h in (30, 90))
    assert (longer < shorter).all()
    # a plain 4-tuple is taken as the named model's parameters; the other model's tuple is refused
    np.testing.assert_array_equal(
        clv.churn_probability("mbg_nbd", PARAMS, x, t_x, T, 90),
        clv.mbgnbd_probability_no_purchase(PARAMS, 90, x, t_x, T),
    )
    with pytest.raises(TypeError):
        clv.churn_probability("mbg_nbd", params, x, t_x, T, 90)
    with pytest.raises(ValueError, match="unknown purchase model"):
        clv.churn_probability("pareto_nbd", PARAMS, x, t_x, T, 90)
    with pytest.raises(ValueError, match="horizon_days"):
        clv.churn_probability("bg_nbd", params, x, t_x, T, -1)
    # tiny probabilities of silence keep their precision (no 1 - (1 - tiny) cancellation)
    frequent = clv.BgNbdParams(50.0, 30.0, 0.8, 2.5)  # BG/NBD one-time buyers are alive: P0 = NBD silence
    busy = clv.churn_probability("bg_nbd", frequent, 0.0, 0.0, 10.0, 365.0)
    assert busy == pytest.approx((40 / 405) ** 50, rel=1e-12) and busy < 1e-50


def _summary(sim, spend) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_key": [f"C{i:06d}" for i in range(sim.x.size)],
            "frequency": sim.x,
            "recency": np.floor(sim.t_x),
            "t": sim.T,
            "monetary": spend,
        }
    )


@pytest.mark.parametrize("model", MODELS)
def test_scoring_adds_churn_columns_from_the_purchase_model(model):
    params, simulate, _ = MODELS[model]
    sim = simulate(20_000, *params, T=np.random.default_rng(3).integers(30, 1000, 20_000).astype(float), seed=4)
    summary = _summary(sim, np.round(simulate_gamma_gamma_spend(sim.x, 6.25, 3.74, 15.44, seed=5), 2))
    result = clv.score_customers(summary, date_as_of(), purchase_model=model, churn_horizon_days=HORIZON)
    scores = result.scores
    assert list(scores.columns) == [*clv.SCORE_COLUMNS, *clv.CHURN_COLUMNS]
    assert (scores["churn_method"] == model).all()
    assert (scores["clv_method"] == clv.PURCHASE_MODELS[model].clv_method).all()
    assert result.method == clv.PURCHASE_MODELS[model].clv_method and result.churn_horizon_days == HORIZON
    fitted = params.__class__(*result.fits.query("model == @model")["value"])
    expected = clv.churn_probability(model, fitted, summary["frequency"], summary["recency"], summary["t"], HORIZON)
    np.testing.assert_allclose(scores["churn_probability"], expected, rtol=1e-12)
    one_time = scores["frequency"] == 0
    assert (scores.loc[one_time, "p_alive"] < 1).all() == (model == "mbg_nbd")

    # stored fits read back score the same, and name their purchase model
    stored = clv.fit_clv_models(summary, purchase_model=model)
    assert set(stored.frame()["model"]) == {model, "gamma_gamma"}
    read_back = clv.ClvFits.from_frame(stored.frame())
    assert read_back.purchase_model == model
    again = clv.score_customers(summary, date_as_of(), fitted=read_back, churn_horizon_days=HORIZON)
    pd.testing.assert_frame_equal(again.scores, scores)
    # without a churn horizon the columns are exactly the historical ones
    assert list(clv.score_customers(summary, date_as_of(), fitted=read_back).scores.columns) == list(clv.SCORE_COLUMNS)


def test_churn_falls_back_to_the_historical_rate_only_without_a_usable_purchase_model():
    params = clv.BgNbdParams(*PARAMS)
    sim = simulate_bgnbd_customers(
        20_000, *params, T=np.random.default_rng(9).integers(30, 1000, 20_000).astype(float), seed=10
    )
    # heavy-tailed spend (q < 1): Gamma-Gamma unusable, CLV historical, churn still from the BG/NBD
    summary = _summary(sim, simulate_gamma_gamma_spend(sim.x, 3.0, 0.7, 20.0, seed=11))
    result = clv.score_customers(summary, date_as_of(), churn_horizon_days=HORIZON)
    assert (result.scores["clv_method"] == "historical").all()
    assert (result.scores["churn_method"] == "bg_nbd").all()

    # too few customers: nothing is fitted, churn = exp(-(x+1)/max(T, 365) x horizon)
    small = summary.head(30)
    fallback = clv.score_customers(small, date_as_of(), churn_horizon_days=HORIZON).scores
    assert (fallback["churn_method"] == "historical").all()
    rate = (small["frequency"] + 1) / np.maximum(small["t"], 365.0)
    np.testing.assert_allclose(fallback["churn_probability"], np.exp(-rate * HORIZON), rtol=1e-12)
    # the same rate as the fallback's expected purchases
    np.testing.assert_allclose(fallback["expected_purchases_90d"], rate * 90, rtol=1e-12)


def date_as_of():
    from datetime import date

    return date(2026, 1, 1)
