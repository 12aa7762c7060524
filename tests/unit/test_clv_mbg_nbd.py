"""MBG/NBD (Batislam, Denizel & Filiztekin 2007): likelihood against the paper's closed form, gradients,
parameter recovery on simulated customers, P(alive) of one-time buyers, and conditional expected purchases
against the paper's 2F1 form and simulated futures."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import approx_fprime
from scipy.special import hyp2f1

import clientele_clv as clv
from clientele_clv.mbg_nbd import mbgnbd_objective
from tests.clv_simulation import SimulatedCustomers, simulate_mbgnbd_customers

# The same day-scale population as the BG/NBD tests (CDNOW estimates, alpha in days)
TRUE_MBGNBD = clv.MbgNbdParams(r=0.25, alpha=30.0, a=0.8, b=2.5)


def batislam_log_likelihood(r, alpha, a, b, x, t_x, T) -> float:
    """The MBG/NBD individual likelihood as printed (Batislam et al. 2007), with math.lgamma:
    L = B(a,b+x+1)/B(a,b) G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
        + B(a+1,b+x)/B(a,b) G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))."""

    def log_beta(p, q):
        return math.lgamma(p) + math.lgamma(q) - math.lgamma(p + q)

    log_gamma_part = math.lgamma(r + x) + r * math.log(alpha) - math.lgamma(r)
    alive = math.exp(log_beta(a, b + x + 1) - log_beta(a, b) + log_gamma_part - (r + x) * math.log(alpha + T))
    gone = math.exp(log_beta(a + 1, b + x) - log_beta(a, b) + log_gamma_part - (r + x) * math.log(alpha + t_x))
    return math.log(alive + gone)


def batislam_expected_purchases(params, t, x, t_x, T) -> float:
    """E[X(t) | x, t_x, T] as printed (Batislam et al. 2007), with scipy's hyp2f1 (fine for moderate
    arguments, a != 1)."""
    r, alpha, a, b = params
    z = t / (alpha + T + t)
    numerator = (
        (a + b + x)
        / (a - 1)
        * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x + 1, a + b + x, z))
    )
    return numerator / (1 + a / (b + x) * ((alpha + T) / (alpha + t_x)) ** (r + x))


@pytest.fixture(scope="module")
def population() -> SimulatedCustomers:
    """300k MBG/NBD customers acquired uniformly over three years, followed for a further year."""
    n = 300_000
    first_purchase_age = np.random.default_rng(2031).integers(30, 3 * 365 + 1, n).astype(float)
    return simulate_mbgnbd_customers(n, *TRUE_MBGNBD, T=first_purchase_age, seed=2032, holdout_days=365.0)


@pytest.mark.parametrize(
    "params",
    [TRUE_MBGNBD, clv.MbgNbdParams(1.7, 120.0, 2.3, 0.6), clv.MbgNbdParams(0.05, 2.0, 0.15, 40.0)],
    ids=["cdnow-days", "a>1,b<1", "small-r-small-a"],
)
def test_log_likelihood_matches_the_papers_closed_form(params):
    sim = simulate_mbgnbd_customers(1500, 0.4, 20.0, 0.9, 3.0, T=np.linspace(0, 700, 1500), seed=3)
    x = np.append(sim.x, [0, 1, 5, 12])
    t_x = np.append(sim.t_x, [0, 700, 3.5, 80])
    T = np.append(sim.T, [0, 700, 400, 80])
    expected = [batislam_log_likelihood(*params, xi, ti, Ti) for xi, ti, Ti in zip(x, t_x, T, strict=True)]

    np.testing.assert_allclose(clv.mbgnbd_customer_log_likelihood(params, x, t_x, T), expected, rtol=0, atol=1e-10)
    assert clv.mbgnbd_log_likelihood(params, x, t_x, T) == pytest.approx(math.fsum(expected), rel=0, abs=1e-8)
    (ux, utx, uT), _, counts = clv.arrays.distinct_rows(x, t_x, T)
    assert clv.mbgnbd_log_likelihood(params, ux, utx, uT, counts) == pytest.approx(math.fsum(expected), rel=1e-12)


def test_analytic_gradient_matches_finite_differences():
    sim = simulate_mbgnbd_customers(5000, *TRUE_MBGNBD, T=np.linspace(10, 900, 5000), seed=8)
    objective = mbgnbd_objective(sim.x, sim.t_x / 300, sim.T / 300, np.ones(sim.x.size))
    for theta in (np.log([0.4, 0.2, 1.3, 1.9]), np.log([2.0, 0.05, 0.3, 7.0])):
        numeric = approx_fprime(theta, lambda th: objective(th)[0], 1e-7)
        np.testing.assert_allclose(objective(theta)[1], numeric, rtol=1e-5, atol=1e-7)


def test_mbgnbd_recovers_the_simulated_parameters(population):
    """Each estimate lies within 5 of its reported standard errors of the truth (a correct fit misses with
    probability ~6e-7 per parameter), and those errors are small enough for this to mean something: the
    standard errors of log r, log alpha, log a, log b are about 0.8%, 0.8%, 1.6% and 3% at this size."""
    fit = clv.fit_mbgnbd(population.x, population.t_x, population.T)
    assert fit.converged, fit.message
    assert fit.model == "mbg_nbd" and isinstance(fit.params, clv.MbgNbdParams)
    std_errors = np.array(fit.log_std_errors)
    assert (std_errors < 0.06).all(), std_errors
    z_scores = np.abs(np.log(np.array(fit.params) / np.array(TRUE_MBGNBD))) / std_errors
    assert (z_scores < 5).all(), z_scores
    assert fit.log_likelihood >= clv.mbgnbd_log_likelihood(TRUE_MBGNBD, population.x, population.t_x, population.T)
    # the BG/NBD cannot describe one-time buyers who already left: it fits these data far worse
    bgnbd = clv.fit_bgnbd(population.x, population.t_x, population.T)
    assert bgnbd.converged and fit.log_likelihood - bgnbd.log_likelihood > 20


def test_one_time_buyers_may_be_gone_and_look_less_alive_as_they_age():
    T = np.array([0.0, 30.0, 365.0, 3650.0])
    zeros = np.zeros_like(T)
    alive = clv.mbgnbd_p_alive(TRUE_MBGNBD, zeros, zeros, T)
    r, alpha, a, b = TRUE_MBGNBD
    np.testing.assert_allclose(alive, 1 / (1 + a / b * ((alpha + T) / alpha) ** r), rtol=1e-12)
    assert (alive < 1).all() and (np.diff(alive) < 0).all()
    # the BG/NBD counts every one-time buyer alive, whatever their age
    assert (clv.bgnbd_p_alive(clv.BgNbdParams(*TRUE_MBGNBD), zeros, zeros, T) == 1.0).all()
    # a repeat buyer whose last purchase was just now: a/(b+x) odds of having left at that purchase
    x = np.array([1.0, 4.0])
    np.testing.assert_allclose(clv.mbgnbd_p_alive(TRUE_MBGNBD, x, 200.0, 200.0), 1 / (1 + a / (b + x)), rtol=1e-12)


@pytest.mark.parametrize("params", [clv.MbgNbdParams(0.6, 45.0, 2.5, 4.0), TRUE_MBGNBD], ids=["a>1", "a<1"])
def test_expected_purchases_match_the_papers_2f1_form(params):
    cases = [
        (t, x, t_x, T) for t in (30, 90, 365) for x, t_x, T in [(0, 0, 10), (0, 0, 400), (1, 50, 60), (4, 300, 700)]
    ]
    cases += [(200, 12, 350, 365), (365, 2, 20, 1000)]
    t, x, t_x, T = (np.array(column, dtype=float) for column in zip(*cases, strict=True))
    expected = [batislam_expected_purchases(params, *case) for case in cases]
    np.testing.assert_allclose(clv.mbgnbd_expected_purchases(params, t, x, t_x, T), expected, rtol=1e-9)


def test_expected_purchases_are_calibrated_against_the_simulated_next_year(population):
    """With the true parameters, E[purchases next year | history] and P(alive) average to what the simulated
    customers did, overall and per frequency band (within 4 standard errors of the simulated mean)."""
    sim = population
    predicted = clv.mbgnbd_expected_purchases(TRUE_MBGNBD, 365.0, sim.x, sim.t_x, sim.T)
    p_alive = clv.mbgnbd_p_alive(TRUE_MBGNBD, sim.x, sim.t_x, sim.T)
    bands = {"all": sim.x >= 0, "x=0": sim.x == 0, "x=1": sim.x == 1, "x=2-4": (sim.x >= 2) & (sim.x <= 4)}
    bands["x>=5"] = sim.x >= 5
    for band, rows in bands.items():
        n = rows.sum()
        residual = sim.holdout_purchases[rows] - predicted[rows]
        assert abs(residual.mean()) <= 4 * residual.std() / math.sqrt(n), band
        alive_residual = sim.alive_at_T[rows] - p_alive[rows]
        assert abs(alive_residual.mean()) <= 4 * alive_residual.std() / math.sqrt(n), band
    assert sim.alive_at_T[sim.x == 0].mean() < 0.9  # the check has power: one-time buyers do leave


# Reference values computed once with the `lifetimes` package 0.11.3 (BetaGeoFitter / ModifiedBetaGeoFitter
# with params_ set to (r, alpha, a, b) = (0.25, 30, 0.8, 2.5); conditional_probability_alive,
# conditional_expected_number_of_purchases_up_to_time(90, ...), and -_negative_log_likelihood x n), installed
# in a throwaway virtualenv outside the project: an independent implementation of both models, printed to 12
# significant digits.
LIFETIMES_CASES = [(0, 0, 10), (0, 0, 400), (1, 50, 60), (4, 300, 700), (12, 350, 365), (2, 20, 1000), (0, 0, 1500)]
LIFETIMES_REFERENCE = {
    "bg_nbd": {
        "p_alive": [1.0, 1.0, 0.729523327481, 0.190555634827, 0.913059769179, 0.0048159306771, 1.0],
        "expected_90d": [
            0.443106245004,
            0.0507663900496,
            0.769535767603,
            0.0964896667603,
            2.3684387358,
            0.000927216208658,
            0.0145771751007,
        ],
        "log_likelihood": -101.285699009,
    },
    "mbg_nbd": {
        "p_alive": [
            0.744123815231,
            0.616279773138,
            0.790621830924,
            0.217660929065,
            0.918567387156,
            0.00618340263101,
            0.539039842637,
        ],
        "expected_90d": [
            0.345296283164,
            0.0315013253548,
            0.857921376276,
            0.110657618886,
            2.39281060057,
            0.00119439407648,
            0.00787363146262,
        ],
        "log_likelihood": -101.729660195,
    },
}


@pytest.mark.parametrize("model", ["bg_nbd", "mbg_nbd"])
def test_both_models_agree_with_an_independent_implementation(model):
    x, t_x, T = (np.array(column, dtype=float) for column in zip(*LIFETIMES_CASES, strict=True))
    params = (0.25, 30.0, 0.8, 2.5)
    reference = LIFETIMES_REFERENCE[model]
    np.testing.assert_allclose(clv.p_alive(model, params, x, t_x, T), reference["p_alive"], rtol=1e-10)
    np.testing.assert_allclose(
        clv.expected_purchases(model, params, 90.0, x, t_x, T), reference["expected_90d"], rtol=1e-10
    )
    log_likelihood = clv.purchase_models.customer_log_likelihood(model, params, x, t_x, T).sum()
    assert log_likelihood == pytest.approx(reference["log_likelihood"], rel=1e-10)
