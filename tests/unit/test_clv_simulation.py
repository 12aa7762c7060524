"""The test simulators reproduce the models' known moments (FHL 2005 eq. 9, Batislam et al. 2007, the
Gamma-Gamma mean), so tests built on them test the models and not the simulators."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import hyp2f1

import clientele_clv as clv
from tests.clv_simulation import (
    simulate_bgnbd_customers,
    simulate_gamma_gamma_spend,
    simulate_mbgnbd_customers,
    simulate_purchase_log,
)

TRUE_GAMMA_GAMMA = clv.GammaGammaParams(p=6.25, q=3.74, v=15.44)


def test_simulators_reproduce_the_model_moments():
    p, q, v = TRUE_GAMMA_GAMMA
    x = np.full(200_000, 3.0)
    spend = simulate_gamma_gamma_spend(x, p, q, v, seed=1)
    assert spend.mean() == pytest.approx(p * v / (q - 1), abs=4 * spend.std() / math.sqrt(x.size))
    assert np.array_equal(spend, simulate_gamma_gamma_spend(x, p, q, v, seed=1))
    assert (simulate_gamma_gamma_spend(np.zeros(3), p, q, v, seed=1) == 0).all()

    # FHL (2005) equation (9): E[X(T)] for the repeat purchases of a customer observed for T days
    params = clv.BgNbdParams(0.6, 45.0, 2.5, 4.0)
    r, alpha, a, b = params
    T = 500.0
    sim = simulate_bgnbd_customers(200_000, *params, T=T, seed=2)
    expected_x = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + T)) ** r * hyp2f1(r, b, a + b - 1, T / (alpha + T)))
    assert sim.x.mean() == pytest.approx(expected_x, abs=4 * sim.x.std() / math.sqrt(sim.x.size))
    assert ((sim.t_x <= sim.T) & (sim.t_x >= 0)).all() and (sim.t_x[sim.x == 0] == 0).all()


def test_the_mbgnbd_simulator_reproduces_the_papers_unconditional_mean():
    """Batislam et al. (2007): E[X(T)] = b/(a-1) [1 - (alpha/(alpha+T))^r 2F1(r, b+1; a+b; T/(alpha+T))]."""
    params = clv.MbgNbdParams(0.6, 45.0, 2.5, 4.0)
    r, alpha, a, b = params
    T = 500.0
    sim = simulate_mbgnbd_customers(200_000, *params, T=T, seed=2)
    expected_x = b / (a - 1) * (1 - (alpha / (alpha + T)) ** r * hyp2f1(r, b + 1, a + b, T / (alpha + T)))
    assert sim.x.mean() == pytest.approx(expected_x, abs=4 * sim.x.std() / math.sqrt(sim.x.size))
    # with the same seed the MBG/NBD customer makes one repeat purchase fewer in a lifetime than the BG/NBD one
    bgnbd = simulate_bgnbd_customers(200_000, *params, T=T, seed=2)
    assert (sim.x <= bgnbd.x).all() and sim.x.mean() < bgnbd.x.mean()


@pytest.mark.parametrize("dropout_at_start", [False, True])
def test_the_dated_purchase_log_reproduces_the_unconditional_mean(dropout_at_start: bool):
    """Repeat purchases in the first T days after the first purchase: FHL (2005) eq. 9, or Batislam et al.
    (2007) for the MBG/NBD; customers keep their process after T (purchases beyond it are not counted)."""
    r, alpha, a, b = 0.6, 45.0, 2.5, 4.0
    T = 500.0
    log = simulate_purchase_log(100_000, r, alpha, a, b, (0, 200), 1000, seed=3, dropout_at_start=dropout_at_start)
    since_first = log.time - log.first_day[log.customer]
    x = np.bincount(log.customer, weights=(since_first > 0) & (since_first <= T), minlength=100_000)
    if dropout_at_start:
        expected = b / (a - 1) * (1 - (alpha / (alpha + T)) ** r * hyp2f1(r, b + 1, a + b, T / (alpha + T)))
    else:
        expected = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + T)) ** r * hyp2f1(r, b, a + b - 1, T / (alpha + T)))
    assert x.mean() == pytest.approx(expected, abs=4 * x.std() / math.sqrt(x.size))
    assert (since_first >= 0).all() and (log.time < 1001).all()
    assert np.array_equal(np.bincount(log.customer[since_first == 0]), np.ones(100_000))
