"""MBG/NBD, Batislam, Denizel & Filiztekin (2007) "Empirical validation and comparison of models for
customer base analysis".

As the BG/NBD (Poisson purchases at rate ``lambda ~ Gamma(r, alpha)``, dropout with probability ``p ~ Beta(a,
b)``), except that the customer may also drop out right after the *first* purchase: at time 0 and after each
repeat purchase. A one-time buyer is therefore alive with probability 1 / (1 + a/b ((alpha+T)/alpha)^r) < 1,
which falls as they age. The shared derivations are in ``beta_geometric``; Batislam et al.'s likelihood,
P(alive) and E[X(t) | x, t_x, T] (their 2F1 form) are the d = 1 case there.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from clientele_clv import beta_geometric
from clientele_clv.fitting import ModelFit

MODEL = "mbg_nbd"
DROPOUT_AT_START = True  # the first purchase is a dropout opportunity


class MbgNbdParams(NamedTuple):
    """MBG/NBD parameters; alpha in days."""

    r: float
    alpha: float
    a: float
    b: float


def mbgnbd_customer_log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Per-customer log-likelihood: G(r+x) alpha^r / G(r) B(a, b+x+1) / B(a, b) x [(alpha+T)^-(r+x) +
    a/(b+x) (alpha+t_x)^-(r+x)], in log space."""
    return beta_geometric.customer_log_likelihood(params, DROPOUT_AT_START, x, t_x, T)


def mbgnbd_log_likelihood(params, x, t_x, T, weights=None) -> float:
    """Sum over customers (optionally weighted, e.g. by counts of distinct rows) of the log-likelihood."""
    return beta_geometric.log_likelihood(params, DROPOUT_AT_START, x, t_x, T, weights)


def mbgnbd_objective(x, t_x, T, weights) -> beta_geometric.Objective:
    """Mean negative log-likelihood and gradient in log(r, alpha, a, b) over distinct weighted rows."""
    return beta_geometric.Objective(x, t_x, T, weights, DROPOUT_AT_START)


def fit_mbgnbd(x, t_x, T, weights=None, *, initial=None, max_iterations: int = 2000) -> ModelFit:
    """Maximum-likelihood MBG/NBD fit on the distinct (x, t_x, T) rows weighted by their counts.

    ``weights`` (optional) multiplies each input row. Time is rescaled by the mean T for conditioning; the
    returned alpha is in days.
    """
    return beta_geometric.fit(
        MODEL, MbgNbdParams, DROPOUT_AT_START, x, t_x, T, weights, initial=initial, max_iterations=max_iterations
    )


def mbgnbd_p_alive(params, x, t_x, T) -> np.ndarray:
    """P(alive at T | x, t_x, T) = 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)), one-time buyers included."""
    return beta_geometric.p_alive(params, DROPOUT_AT_START, x, t_x, T)


def mbgnbd_expected_purchases(params, t, x, t_x, T) -> np.ndarray:
    """E[purchases in (T, T+t] | x, t_x, T] = P(alive) (a+b+x)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x)
    2F1(r+x, b+x+1; a+b+x; t/(alpha+T+t))] (Batislam et al. 2007), evaluated by quadrature; broadcasts."""
    return beta_geometric.expected_purchases(params, DROPOUT_AT_START, t, x, t_x, T)


def mbgnbd_probability_no_purchase(params, t, x, t_x, T) -> np.ndarray:
    """P(no purchase in (T, T+t] | x, t_x, T) = 1 - P(alive) (1 - ((alpha+T)/(alpha+T+t))^(r+x)); broadcasts."""
    return beta_geometric.probability_no_purchase(params, DROPOUT_AT_START, t, x, t_x, T)
