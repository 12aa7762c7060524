"""BG/NBD and Gamma-Gamma CLV: likelihoods against the papers' closed forms, parameter recovery on simulated
customers, predictions against independent evaluations and simulated futures, and the historical fallback."""

from __future__ import annotations

import itertools
import math
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy.integrate import quad
from scipy.optimize import approx_fprime
from scipy.special import betaln, hyp2f1

import clientele_clv as clv
from clientele_clv.arrays import distinct_rows
from clientele_clv.bg_nbd import bgnbd_objective
from clientele_clv.gamma_gamma import GammaGammaObjective
from tests.clv_simulation import SimulatedCustomers, simulate_bgnbd_customers, simulate_gamma_gamma_spend

AS_OF = date(2026, 1, 1)
# CDNOW estimates (FHL 2005: r=0.243, alpha=4.414 weeks, a=0.793, b=2.426; Gamma-Gamma p=6.25, q=3.74,
# v=15.44 USD) with alpha converted to days and rounded: a realistic day-scale population.
TRUE_BGNBD = clv.BgNbdParams(r=0.25, alpha=30.0, a=0.8, b=2.5)
TRUE_GAMMA_GAMMA = clv.GammaGammaParams(p=6.25, q=3.74, v=15.44)
FINITE_COLUMNS = [
    "p_alive",
    "expected_purchases_30d",
    "expected_purchases_90d",
    "expected_purchases_365d",
    "expected_avg_order_value",
    "clv",
]


def fhl_equation_6_log_likelihood(r, alpha, a, b, x, t_x, T) -> float:
    """FHL (2005) equation (6) for one customer, as printed, with math.lgamma for the B and Gamma functions:
    L = B(a,b+x)/B(a,b) G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
        + [x>0] B(a+1,b+x-1)/B(a,b) G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))."""

    def log_beta(p, q):
        return math.lgamma(p) + math.lgamma(q) - math.lgamma(p + q)

    log_gamma_part = math.lgamma(r + x) + r * math.log(alpha) - math.lgamma(r)
    likelihood = math.exp(log_beta(a, b + x) - log_beta(a, b) + log_gamma_part - (r + x) * math.log(alpha + T))
    if x > 0:
        likelihood += math.exp(
            log_beta(a + 1, b + x - 1) - log_beta(a, b) + log_gamma_part - (r + x) * math.log(alpha + t_x)
        )
    return math.log(likelihood)


def fhl_equation_10(params: clv.BgNbdParams, t, x, t_x, T) -> float:
    """FHL (2005) equation (10) as printed, with scipy's hyp2f1 (fine for moderate arguments, a != 1)."""
    r, alpha, a, b = params
    z = t / (alpha + T + t)
    numerator = (
        (a + b + x - 1)
        / (a - 1)
        * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
    )
    denominator = 1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    return numerator / denominator


def purchases_if_alive_by_adaptive_quadrature(params: clv.BgNbdParams, t, x, T) -> float:
    """E[purchases in t | alive] = int_0^1 (1 - (1 + p k)^-(r+x)) / p Beta(p; a, b+x) dp, k = t/(alpha+T), by
    QUADPACK's algebraic-weight rule, split where the integrand or the weight change scale."""
    r, alpha, a, b = params
    k, shape, b_prime = t / (alpha + T), r + x, b + x
    log_norm = betaln(a, b_prime)

    def integrand(p):
        return -math.expm1(-shape * math.log1p(p * k)) / p if p > 0 else shape * k

    scales = [1 / (shape * k), 1 / k, a / b_prime, 1 / b_prime]
    cuts = sorted({0.0, 1.0, *(min(1.0, c * s) for s in scales for c in (0.1, 1.0, 10.0))})
    total = 0.0
    for low, high in itertools.pairwise(cuts):
        if low == 0.0:
            value, _ = quad(
                lambda p: integrand(p) * math.exp((b_prime - 1) * math.log1p(-p) - log_norm),
                low,
                high,
                weight="alg",
                wvar=(a - 1, 0),
                epsabs=0,
                epsrel=1e-13,
                limit=500,
            )
        elif high == 1.0:
            value, _ = quad(
                lambda p: integrand(p) * math.exp((a - 1) * math.log(p) - log_norm),
                low,
                high,
                weight="alg",
                wvar=(0, b_prime - 1),
                epsabs=0,
                epsrel=1e-13,
                limit=500,
            )
        else:
            value, _ = quad(
                lambda p: integrand(p) * math.exp((a - 1) * math.log(p) + (b_prime - 1) * math.log1p(-p) - log_norm),
                low,
                high,
                epsabs=0,
                epsrel=1e-13,
                limit=500,
            )
        total += value
    return total


@pytest.fixture(scope="module")
def population() -> SimulatedCustomers:
    """400k customers acquired uniformly over three years, followed for a further year."""
    n = 400_000
    first_purchase_age = np.random.default_rng(2024).integers(30, 3 * 365 + 1, n).astype(float)
    return simulate_bgnbd_customers(n, *TRUE_BGNBD, T=first_purchase_age, seed=2025, holdout_days=365.0)


@pytest.fixture(scope="module")
def population_spend(population) -> np.ndarray:
    return simulate_gamma_gamma_spend(population.x, *TRUE_GAMMA_GAMMA, seed=2026)


def summary_frame(x, t_x, T, spend, **extra) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_key": [f"C{i:07d}" for i in range(len(x))],
            "frequency": x,
            "recency": t_x,
            "t": T,
            "monetary": spend,
            **extra,
        }
    )


def assert_all_finite(scores: pd.DataFrame) -> None:
    values = scores[FINITE_COLUMNS].to_numpy(dtype=float)
    assert np.isfinite(values).all()
    assert (values >= 0).all()
    assert scores["p_alive"].between(0, 1).all()


# --------------------------------------------------------------------------------------------------------
# likelihoods


@pytest.mark.parametrize(
    "params",
    [TRUE_BGNBD, clv.BgNbdParams(1.7, 120.0, 2.3, 0.6), clv.BgNbdParams(0.05, 2.0, 0.15, 40.0)],
    ids=["cdnow-days", "a>1,b<1", "small-r-small-a"],
)
def test_log_likelihood_matches_fhl_equation_6_per_customer(params):
    sim = simulate_bgnbd_customers(1500, 0.4, 20.0, 0.9, 3.0, T=np.linspace(0, 700, 1500), seed=3)
    x = np.append(sim.x, [0, 1, 5, 12])
    t_x = np.append(sim.t_x, [0, 700, 3.5, 80])
    T = np.append(sim.T, [0, 700, 400, 80])
    expected = [fhl_equation_6_log_likelihood(*params, xi, ti, Ti) for xi, ti, Ti in zip(x, t_x, T, strict=True)]

    per_customer = clv.bgnbd_customer_log_likelihood(params, x, t_x, T)
    np.testing.assert_allclose(per_customer, expected, rtol=0, atol=1e-10)
    assert clv.bgnbd_log_likelihood(params, x, t_x, T) == pytest.approx(math.fsum(expected), rel=0, abs=1e-8)


def test_log_likelihood_stays_finite_where_the_direct_formula_overflows():
    x, t_x, T = np.array([400.0, 0.0]), np.array([90_000.0, 0.0]), np.array([100_000.0, 100_000.0])
    with pytest.raises(OverflowError):
        math.exp(math.lgamma(400.25) + 400 * math.log(30.0))
    assert np.isfinite(clv.bgnbd_customer_log_likelihood(TRUE_BGNBD, x, t_x, T)).all()


def test_distinct_row_weighting_reproduces_the_full_data_likelihood_and_fit():
    sim = simulate_bgnbd_customers(30_000, *TRUE_BGNBD, T=np.arange(30_000) % 700 + 1.0, seed=5, whole_days=True)
    (ux, utx, uT), inverse, counts = distinct_rows(sim.x, sim.t_x, sim.T)
    assert counts.size < sim.x.size / 2
    assert np.array_equal(ux[inverse], sim.x) and np.array_equal(utx[inverse], sim.t_x)

    for params in (TRUE_BGNBD, clv.BgNbdParams(1.1, 7.0, 3.0, 0.4)):
        full = clv.bgnbd_log_likelihood(params, sim.x, sim.t_x, sim.T)
        weighted = clv.bgnbd_log_likelihood(params, ux, utx, uT, counts)
        assert weighted == pytest.approx(full, rel=1e-12)

    spend = np.round(simulate_gamma_gamma_spend(sim.x, *TRUE_GAMMA_GAMMA, seed=6), 0)
    repeat = sim.x > 0
    (gx, gm), _, g_counts = distinct_rows(sim.x[repeat], spend[repeat])
    assert g_counts.size < repeat.sum() / 2
    assert clv.gamma_gamma_log_likelihood(TRUE_GAMMA_GAMMA, gx, gm, g_counts) == pytest.approx(
        clv.gamma_gamma_log_likelihood(TRUE_GAMMA_GAMMA, sim.x[repeat], spend[repeat]), rel=1e-12
    )

    # an explicit weight per distinct row fits the same model as the raw rows
    fit_full = clv.fit_bgnbd(sim.x, sim.t_x, sim.T)
    fit_weighted = clv.fit_bgnbd(ux, utx, uT, weights=counts)
    np.testing.assert_allclose(fit_weighted.params, fit_full.params, rtol=1e-9)
    assert fit_weighted.log_likelihood == pytest.approx(fit_full.log_likelihood, rel=1e-12)
    assert fit_full.n_customers == sim.x.size and fit_full.n_distinct == counts.size


def test_analytic_gradients_match_finite_differences():
    sim = simulate_bgnbd_customers(5000, *TRUE_BGNBD, T=np.linspace(10, 900, 5000), seed=8)
    objective = bgnbd_objective(sim.x, sim.t_x / 300, sim.T / 300, np.ones(sim.x.size))
    theta = np.log([0.4, 0.2, 1.3, 1.9])
    numeric = approx_fprime(theta, lambda th: objective(th)[0], 1e-7)
    np.testing.assert_allclose(objective(theta)[1], numeric, rtol=1e-5, atol=1e-7)

    spend = simulate_gamma_gamma_spend(sim.x, *TRUE_GAMMA_GAMMA, seed=9)
    repeat = sim.x > 0
    spend_objective = GammaGammaObjective(sim.x[repeat], spend[repeat] / 30, np.ones(int(repeat.sum())))
    theta = np.log([4.0, 2.5, 0.7])
    numeric = approx_fprime(theta, lambda th: spend_objective(th)[0], 1e-7)
    np.testing.assert_allclose(spend_objective(theta)[1], numeric, rtol=1e-5, atol=1e-7)


# --------------------------------------------------------------------------------------------------------
# parameter recovery


def test_bgnbd_and_gamma_gamma_recover_the_simulated_parameters(population, population_spend):
    """Tolerances are ~4.5 standard deviations of each estimate at this sample size, measured over 20
    seeds at n=200k (relative SD r 0.37%, alpha 0.64%, a 1.2%, b 2.0%; p 1.7%, q 0.52%, v 2.2%) and
    scaled by 1/sqrt(2): a correct fit misses by chance with probability ~1e-5, while a wrong likelihood,
    gradient or time scale biases estimates by far more."""
    fit = clv.fit_bgnbd(population.x, population.t_x, population.T)
    assert fit.converged, fit.message
    tolerances = {"r": 0.015, "alpha": 0.025, "a": 0.045, "b": 0.065}
    for name, tolerance in tolerances.items():
        assert getattr(fit.params, name) == pytest.approx(getattr(TRUE_BGNBD, name), rel=tolerance), name
    # the reported standard errors (observed information) agree: the truth lies within 5 of them
    z_scores = np.abs(np.log(np.array(fit.params) / np.array(TRUE_BGNBD))) / np.array(fit.log_std_errors)
    assert (z_scores < 5).all(), z_scores
    assert fit.log_likelihood >= clv.bgnbd_log_likelihood(TRUE_BGNBD, population.x, population.t_x, population.T)

    spend_fit = clv.fit_gamma_gamma(population.x, population_spend)
    assert spend_fit.converged, spend_fit.message
    assert spend_fit.n_customers == (population.x > 0).sum()
    tolerances = {"p": 0.055, "q": 0.02, "v": 0.075}
    for name, tolerance in tolerances.items():
        assert getattr(spend_fit.params, name) == pytest.approx(getattr(TRUE_GAMMA_GAMMA, name), rel=tolerance), name
    z_scores = np.abs(np.log(np.array(spend_fit.params) / np.array(TRUE_GAMMA_GAMMA))) / np.array(
        spend_fit.log_std_errors
    )
    assert (z_scores < 5).all(), z_scores


# --------------------------------------------------------------------------------------------------------
# predictions


@pytest.mark.parametrize("params", [clv.BgNbdParams(0.6, 45.0, 2.5, 4.0), TRUE_BGNBD], ids=["a>1", "a<1"])
def test_expected_purchases_match_fhl_equation_10_where_scipy_hyp2f1_is_reliable(params):
    cases = [
        (t, x, t_x, T) for t in (30, 90, 365) for x, t_x, T in [(0, 0, 10), (0, 0, 400), (1, 50, 60), (4, 300, 700)]
    ]
    cases += [(200, 12, 350, 365), (365, 2, 20, 1000)]
    t, x, t_x, T = (np.array(column, dtype=float) for column in zip(*cases, strict=True))
    expected = [fhl_equation_10(params, *case) for case in cases]
    np.testing.assert_allclose(clv.bgnbd_expected_purchases(params, t, x, t_x, T), expected, rtol=1e-9)


@pytest.mark.parametrize(
    ("params", "t", "x", "T"),
    [
        (clv.BgNbdParams(0.3, 0.5, 0.3, 0.7), 365.0, 0, 0.0),  # a+b+x-1 = 0: eq. (10) has a 2F1 pole
        (clv.BgNbdParams(0.8, 40.0, 1.0, 3.0), 365.0, 3, 200.0),  # a = 1: eq. (10) is 0/0
        (clv.BgNbdParams(0.05, 0.5, 0.1, 0.3), 1826.0, 0, 1.0),  # t/(alpha+T) = 1217
        (clv.BgNbdParams(0.25, 30.0, 0.8, 2.5), 1826.0, 150, 160.0),  # many purchases, long horizon
        (clv.BgNbdParams(0.25, 30.0, 0.8, 2.5), 365.0, 900, 1000.0),  # near-daily buyer
        (clv.BgNbdParams(2.0, 5.0, 0.5, 150.0), 730.0, 40, 5.0),  # x far above T (off the day grid)
    ],
)
def test_expected_purchases_if_alive_match_adaptive_quadrature_in_hard_regimes(params, t, x, T):
    expected = purchases_if_alive_by_adaptive_quadrature(params, t, x, T)
    got = clv.bgnbd_expected_purchases(params, t, x, T, T)  # t_x = T: P(alive) = 1/(1 + a/(b+x-1)) for x > 0
    p_alive = 1.0 if x == 0 else 1 / (1 + params.a / (params.b + x - 1))
    assert got == pytest.approx(p_alive * expected, rel=1e-9)


@pytest.mark.parametrize("T", [1e5, 1e7])
def test_huge_T_gives_finite_predictions_that_match_the_small_window_expansion(T):
    params = TRUE_BGNBD
    x = np.array([0.0, 1.0, 20.0, 20.0, 300.0])
    t_x = np.array([0.0, T - 1, T / 2, T - 10, T - 5])
    t = 365.0
    expected = clv.bgnbd_expected_purchases(params, t, x, t_x, np.full(5, T))
    p_alive = clv.bgnbd_p_alive(params, x, t_x, np.full(5, T))
    assert np.isfinite(expected).all() and np.isfinite(p_alive).all()
    assert p_alive[2] < 1e-4 and p_alive[3] > 0.9  # silent for half of T after 20 purchases: gone

    # E[(1 - (1+pk)^-s)/p] = s k - s(s+1) k^2 E[p]/2 + s(s+1)(s+2) k^3 E[p^2]/6 - ..., p ~ Beta(a, b+x)
    r, alpha, a, b = params
    k, s, b_prime = t / (alpha + T), r + x, b + x
    mean_p = a / (a + b_prime)
    mean_p2 = mean_p * (a + 1) / (a + b_prime + 1)
    series = s * k - s * (s + 1) * k**2 * mean_p / 2 + s * (s + 1) * (s + 2) * k**3 * mean_p2 / 6
    np.testing.assert_allclose(expected, p_alive * series, rtol=1e-7, atol=1e-300)


def test_predictions_are_calibrated_against_the_simulated_next_year(population):
    """With the true parameters, E[purchases next year | history] and P(alive) average to what the
    simulated customers actually did, overall and per frequency band (within 4 standard errors)."""
    sim = population
    predicted = clv.bgnbd_expected_purchases(TRUE_BGNBD, 365.0, sim.x, sim.t_x, sim.T)
    p_alive = clv.bgnbd_p_alive(TRUE_BGNBD, sim.x, sim.t_x, sim.T)
    bands = {
        "all": sim.x >= 0,
        "x=0": sim.x == 0,
        "x=1": sim.x == 1,
        "x=2-4": (sim.x >= 2) & (sim.x <= 4),
        "x>=5": sim.x >= 5,
    }
    for band, rows in bands.items():
        n = rows.sum()
        residual = sim.holdout_purchases[rows] - predicted[rows]
        assert abs(residual.mean()) <= 4 * residual.std() / math.sqrt(n), band
        alive_residual = sim.alive_at_T[rows] - p_alive[rows]
        assert abs(alive_residual.mean()) <= 4 * alive_residual.std() / math.sqrt(n), band
    assert predicted.mean() > 0.1  # the check has power: customers do buy next year


def test_gamma_gamma_expected_spend_shrinks_the_customer_mean_towards_the_population_mean(population, population_spend):
    p, q, v = TRUE_GAMMA_GAMMA
    population_mean = p * v / (q - 1)
    x = np.array([0.0, 1.0, 10.0, 1e6])
    m = np.array([0.0, 100.0, 100.0, 100.0])
    expected = clv.gamma_gamma_expected_spend(TRUE_GAMMA_GAMMA, x, m)
    assert expected[0] == pytest.approx(population_mean, rel=1e-12)
    assert population_mean < expected[1] < expected[2] < expected[3] < 100.0
    assert expected[3] == pytest.approx(100.0, rel=1e-4)
    # E over customers of E[spend | x, m] = the population mean spend per purchase
    repeat = population.x > 0
    conditional = clv.gamma_gamma_expected_spend(TRUE_GAMMA_GAMMA, population.x[repeat], population_spend[repeat])
    assert conditional.mean() == pytest.approx(population_mean, abs=4 * conditional.std() / math.sqrt(repeat.sum()))
    with pytest.raises(ValueError, match="infinite"):
        clv.gamma_gamma_expected_spend(clv.GammaGammaParams(2.0, 0.9, 10.0), x, m)


# --------------------------------------------------------------------------------------------------------
# scoring


def test_score_customers_uses_the_models_on_a_healthy_population(population, population_spend):
    rows = slice(0, 40_000)
    x, t_x, T = population.x[rows], np.floor(population.t_x[rows]), population.T[rows]
    spend = np.round(population_spend[rows], 2)
    summary = summary_frame(x, t_x, T, spend, historical_revenue=spend * (x + 1) + 20.0)
    result = clv.score_customers(summary, AS_OF, horizon_months=12, monthly_discount_rate=0.0)

    assert result.method == clv.METHOD_MODEL and result.warnings == []
    scores = result.scores
    assert list(scores.columns) == list(clv.SCORE_COLUMNS)
    assert (scores["clv_method"] == clv.METHOD_MODEL).all()
    assert scores["customer_key"].tolist() == summary["customer_key"].tolist()
    assert_all_finite(scores)
    assert set(result.fits["parameter"]) == {"r", "alpha", "a", "b", "p", "q", "v"}
    assert result.fits["converged"].all() and (result.fits["n_customers"] > 0).all()
    assert {"fit_bg_nbd", "fit_gamma_gamma", "predict", "total"} <= result.timings.keys()

    # undiscounted 12 months of 365.25/12 days = expected purchases in 365.25 days x expected spend
    fitted = clv.BgNbdParams(*result.fits.query("model == 'bg_nbd'")["value"])
    year = clv.bgnbd_expected_purchases(fitted, 365.25, x, t_x, T)
    np.testing.assert_allclose(scores["clv"], year * scores["expected_avg_order_value"], rtol=1e-9)
    # 20% / 30% / 50% of positive CLVs
    shares = scores["clv_tier"].value_counts(normalize=True)
    assert shares["high"] == pytest.approx(0.2, abs=0.005) and shares["medium"] == pytest.approx(0.3, abs=0.005)
    assert (
        scores.loc[scores["clv_tier"] == "high", "clv"].min() > scores.loc[scores["clv_tier"] == "medium", "clv"].max()
    )

    discounted = clv.score_customers(summary, AS_OF, horizon_months=12, monthly_discount_rate=0.02).scores
    assert (discounted["clv"] < scores["clv"]).all()
    assert (discounted["clv"] > scores["clv"] / 1.02**12).all()


def test_a_single_customer_falls_back_to_the_historical_estimate():
    summary = pd.DataFrame(
        {
            "customer_key": ["solo"],
            "frequency": [2],
            "recency": [300],
            "t": [730],
            "monetary": [50.0],
            "historical_revenue": [1460.0],
        }
    )
    result = clv.score_customers(summary, AS_OF, horizon_months=12, monthly_discount_rate=0.01, min_customers=50)
    assert result.method == clv.METHOD_HISTORICAL and result.fits.empty
    assert any("1 customers < clv_min_customers = 50" in w for w in result.warnings)
    row = result.scores.iloc[0]
    # 1460 over 730 days = 2/day; 365.25/12 days per month, discounted at 1% per month for 12 months
    expected_clv = sum(2.0 * 365.25 / 12 / 1.01**m for m in range(1, 13))
    assert row["clv"] == pytest.approx(expected_clv, rel=1e-12)
    assert row["expected_purchases_365d"] == pytest.approx(3 / 730 * 365)
    assert row["expected_avg_order_value"] == pytest.approx(1460 / 3)
    assert row["p_alive"] == 1.0 and row["clv_method"] == "historical" and row["clv_tier"] == "high"

    # with the thresholds lowered the models are tried, and a single row does not identify them
    lowered = clv.score_customers(summary, AS_OF, min_customers=1, min_repeat_customers=1)
    assert lowered.method == clv.METHOD_HISTORICAL
    assert not lowered.fits["converged"].any()
    assert any("not identified" in w for w in lowered.warnings)
    assert lowered.scores["clv"].iloc[0] == pytest.approx(row["clv"])


def test_nobody_repeating_falls_back_with_an_explanation():
    rng = np.random.default_rng(11)
    n = 400
    summary = pd.DataFrame(
        {
            "customer_key": np.arange(n),
            "frequency": 0,
            "recency": 0,
            "t": rng.integers(0, 900, n),
            "monetary": np.nan,
            "historical_revenue": rng.gamma(2.0, 40.0, n),
        }
    )
    result = clv.score_customers(summary, AS_OF)
    assert any("0 repeat customers < clv_min_repeat_customers = 20" in w for w in result.warnings)
    assert (result.scores["clv_method"] == "historical").all()
    assert_all_finite(result.scores)
    # younger than a year: revenue counts as one year's worth
    young = summary["t"].to_numpy() <= 365
    per_day_of_a_year = summary["historical_revenue"][young] / 365
    expected = per_day_of_a_year * 365.25 / 12 * sum(1 / 1.01**m for m in range(1, 13))
    np.testing.assert_allclose(result.scores["clv"][young], expected, rtol=1e-12)

    forced = clv.score_customers(summary, AS_OF, min_customers=0, min_repeat_customers=0)
    assert (forced.scores["clv_method"] == "historical").all()
    assert any("nobody made a repeat purchase" in w for w in forced.warnings)
    assert not forced.fits["converged"].any()
    assert_all_finite(forced.scores)


def test_identical_customers_are_degenerate_and_fall_back():
    n = 300
    summary = pd.DataFrame(
        {
            "customer_key": np.arange(n),
            "frequency": 3,
            "recency": 120,
            "t": 400,
            "monetary": 25.0,
            "historical_revenue": 100.0,
        }
    )
    result = clv.score_customers(summary, AS_OF)
    assert (result.scores["clv_method"] == "historical").all()
    assert any("BG/NBD fit failed" in w and "degenerate" in w for w in result.warnings)
    assert any("Gamma-Gamma fit failed" in w for w in result.warnings)
    assert result.scores["clv"].nunique() == 1 and (result.scores["clv_tier"] == "high").all()
    assert_all_finite(result.scores)

    # almost identical: the optimiser runs into a bound instead, which is reported the same way
    summary.loc[:9, "frequency"] = [1, 2, 4, 5, 6, 1, 2, 4, 5, 6]
    result = clv.score_customers(summary, AS_OF)
    assert (result.scores["clv_method"] == "historical").all()
    assert any("the data do not identify the model" in w for w in result.warnings)
    assert_all_finite(result.scores)


def test_huge_T_customers_score_finitely_with_the_models(population, population_spend):
    rows = slice(0, 5000)
    summary = summary_frame(population.x[rows], population.t_x[rows], population.T[rows], population_spend[rows])
    ancient = pd.DataFrame(
        {
            "customer_key": ["ancient-1", "ancient-2", "ancient-3"],
            "frequency": [0, 40, 40],
            "recency": [0, 50.0, 99_990.0],
            "t": [100_000.0, 100_000.0, 100_000.0],
            "monetary": [0.0, 30.0, 30.0],
        }
    )
    result = clv.score_customers(pd.concat([summary, ancient], ignore_index=True), AS_OF)
    assert result.method == clv.METHOD_MODEL
    assert_all_finite(result.scores)
    tail = result.scores.tail(3).set_index("customer_key")
    assert tail.loc["ancient-2", "p_alive"] < 1e-12 < tail.loc["ancient-3", "p_alive"]
    assert tail.loc["ancient-3", "clv"] > tail.loc["ancient-2", "clv"]
    assert any("no historical_revenue column" in w for w in result.warnings)


def test_heavy_tailed_spend_with_q_below_one_falls_back(population):
    rows = slice(0, 50_000)
    sim_x = population.x[rows]
    spend = simulate_gamma_gamma_spend(sim_x, 3.0, 0.7, 20.0, seed=12)
    summary = summary_frame(
        sim_x, population.t_x[rows], population.T[rows], spend, historical_revenue=spend * (sim_x + 1)
    )
    result = clv.score_customers(summary, AS_OF)
    fitted_q = result.fits.query("model == 'gamma_gamma' and parameter == 'q'")["value"].item()
    assert fitted_q < 1
    assert any("mean spend per purchase is infinite" in w for w in result.warnings)
    assert (result.scores["clv_method"] == "historical").all()
    assert_all_finite(result.scores)


def test_arrow_tables_with_decimal_revenue_score_like_pandas():
    table = pa.table(
        {
            "customer_key": pa.array(["a", "b", "c"]),
            "frequency": pa.array([1, 0, 3], pa.int64()),
            "recency": pa.array([5, 0, 400], pa.int32()),
            "t": pa.array([50, 20, 800], pa.int32()),
            "monetary": pa.array([10.0, None, 42.5]),
            "historical_revenue": pa.array(
                [Decimal("20.50"), Decimal("7.25"), Decimal("170.00")], pa.decimal128(18, 2)
            ),
            "as_of_date": pa.array([AS_OF] * 3),
        }
    )
    from_arrow = clv.score_customers(table, AS_OF).scores
    from_pandas = clv.score_customers(
        table.drop(["historical_revenue"])
        .append_column("historical_revenue", pa.array([20.5, 7.25, 170.0]))
        .to_pandas(),
        AS_OF,
    ).scores
    pd.testing.assert_frame_equal(from_arrow, from_pandas)
    assert from_arrow["monetary"].tolist() == [10.0, 0.0, 42.5]
    assert from_arrow["frequency"].dtype == np.int64


def test_empty_summary_and_contract_violations():
    empty = pd.DataFrame({c: pd.Series(dtype=float) for c in clv.SUMMARY_COLUMNS})
    result = clv.score_customers(empty, AS_OF)
    assert result.scores.empty and list(result.scores.columns) == list(clv.SCORE_COLUMNS)
    assert result.warnings == [
        "no historical_revenue column: the fallback uses monetary x (frequency + 1)",
        "no customers to score",
    ]

    broken = pd.DataFrame({"customer_key": ["x"], "frequency": [1], "recency": [90], "t": [30], "monetary": [5.0]})
    with pytest.raises(ValueError, match="recency <= t"):
        clv.score_customers(broken, AS_OF)
    with pytest.raises(ValueError, match="missing column"):
        clv.score_customers(broken.drop(columns="t"), AS_OF)
    stale = broken.assign(recency=10, as_of_date=pd.Timestamp("2025-12-31"))
    with pytest.raises(ValueError, match="as of"):
        clv.score_customers(stale, AS_OF)
    assert clv.score_customers(stale, date(2025, 12, 31)).scores["clv"].iloc[0] > 0


def test_clv_tiers_follow_the_documented_quantile_rule():
    clv_values = np.array([100.0, 90, 80, 70, 60, 50, 40, 30, 20, 10, 0, -5, np.nan])
    tiers = clv.clv_tiers(clv_values, high_share=0.2, medium_share=0.3)
    assert tiers.tolist() == ["high"] * 2 + ["medium"] * 3 + ["low"] * 5 + ["none"] * 3
    # ties share the better tier; cut-offs round up
    tied = clv.clv_tiers(np.array([5.0, 5.0, 5.0, 1.0]), high_share=0.25, medium_share=0.25)
    assert tied.tolist() == ["high", "high", "high", "low"]
    assert clv.clv_tiers(np.array([3.0, 2.0, 1.0]), high_share=0.0, medium_share=1.0).tolist() == ["medium"] * 3
    with pytest.raises(ValueError):
        clv.clv_tiers(clv_values, high_share=0.7, medium_share=0.5)


def test_fits_stored_and_read_back_score_exactly_like_fitting_in_place(population, population_spend):
    rows = slice(0, 40_000)
    x, t_x, T = population.x[rows], np.floor(population.t_x[rows]), population.T[rows]
    summary = summary_frame(x, t_x, T, np.round(population_spend[rows], 2))
    in_place = clv.score_customers(summary, AS_OF)
    stored = clv.fit_clv_models(summary).frame()
    assert stored["used_for_scoring"].all()
    from_storage = clv.score_customers(summary, AS_OF, fitted=clv.ClvFits.from_frame(pa.Table.from_pandas(stored)))
    pd.testing.assert_frame_equal(in_place.scores, from_storage.scores)
    assert from_storage.method == clv.METHOD_MODEL


def test_unusable_stored_fits_make_scoring_fall_back():
    summary = pd.DataFrame(
        {"customer_key": ["a", "b"], "frequency": [0, 2], "recency": [0, 40], "t": [100, 90], "monetary": [0, 12.5]}
    )
    fitted = clv.fit_clv_models(summary)
    assert fitted.frame().empty and fitted.warnings
    result = clv.score_customers(summary, AS_OF, fitted=clv.ClvFits.from_frame(fitted.frame()))
    assert set(result.scores["clv_method"]) == {clv.METHOD_HISTORICAL}
