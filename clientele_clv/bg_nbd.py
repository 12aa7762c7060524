"""BG/NBD, Fader, Hardie & Lee (2005) "Counting your customers the easy way".

Purchases follow a Poisson process with rate ``lambda ~ Gamma(r, alpha)``; right after each *repeat* purchase
the customer drops out with probability ``p ~ Beta(a, b)``. A customer without repeat purchases is alive for
sure (P(alive) = 1 whatever their age). Parameters r, alpha (days), a, b by maximum likelihood (FHL eq. 6).
The shared derivations are in ``beta_geometric``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from clientele_clv import beta_geometric
from clientele_clv.fitting import ModelFit

MODEL = "bg_nbd"
DROPOUT_AT_START = False  # the first purchase is not a dropout opportunity


class BgNbdParams(NamedTuple):
    """BG/NBD parameters; alpha in days."""

    r: float
    alpha: float
    a: float
    b: float


def bgnbd_customer_log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Per-customer log of FHL (2005) equation (6), computed in log space."""
    return beta_geometric.customer_log_likelihood(params, DROPOUT_AT_START, x, t_x, T)


def bgnbd_log_likelihood(params, x, t_x, T, weights=None) -> float:
    """Sum over customers (optionally weighted, e.g. by counts of distinct rows) of FHL equation (6)."""
    return beta_geometric.log_likelihood(params, DROPOUT_AT_START, x, t_x, T, weights)


def bgnbd_objective(x, t_x, T, weights) -> beta_geometric.Objective:
    """Mean negative log-likelihood and gradient in log(r, alpha, a, b) over distinct weighted rows."""
    return beta_geometric.Objective(x, t_x, T, weights, DROPOUT_AT_START)


def fit_bgnbd(x, t_x, T, weights=None, *, initial=None, max_iterations: int = 2000) -> ModelFit:
    """Maximum-likelihood BG/NBD fit on the distinct (x, t_x, T) rows weighted by their counts.

    ``weights`` (optional) multiplies each input row, e.g. counts of rows already made distinct.
    Time is rescaled by the mean T for conditioning; the returned alpha is in days.
    """
    return beta_geometric.fit(
        MODEL, BgNbdParams, DROPOUT_AT_START, x, t_x, T, weights, initial=initial, max_iterations=max_iterations
    )


def bgnbd_p_alive(params, x, t_x, T) -> np.ndarray:
    """P(alive at T | x, t_x, T) = 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)) (FHL eq. 12)."""
    return beta_geometric.p_alive(params, DROPOUT_AT_START, x, t_x, T)


def bgnbd_expected_purchases(params, t, x, t_x, T) -> np.ndarray:
    """E[purchases in (T, T+t] | x, t_x, T] (FHL 2005 eq. 10) = P(alive) x E[purchases | alive]; broadcasts."""
    return beta_geometric.expected_purchases(params, DROPOUT_AT_START, t, x, t_x, T)


def bgnbd_probability_no_purchase(params, t, x, t_x, T) -> np.ndarray:
    """P(no purchase in (T, T+t] | x, t_x, T) = 1 - P(alive) (1 - ((alpha+T)/(alpha+T+t))^(r+x)); broadcasts."""
    return beta_geometric.probability_no_purchase(params, DROPOUT_AT_START, t, x, t_x, T)
