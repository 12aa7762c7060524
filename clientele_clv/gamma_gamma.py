"""Gamma-Gamma spend model, Fader, Hardie & Lee (2005) "RFM and CLV" / Fader & Hardie (2013) note.

The value of each purchase is ``Gamma(p, nu)`` with ``nu ~ Gamma(q, v)``, independent of the purchase
process. Fitted on customers with ``x > 0`` and ``m > 0`` (m = mean value of the repeat purchases).
"""

from __future__ import annotations

import math
from time import perf_counter
from typing import NamedTuple

import numpy as np
from scipy.special import digamma, gammaln

from clientele_clv.arrays import compress, dot, float_arrays, weighted_mean, weighted_sum
from clientele_clv.fitting import ModelFit, maximise_likelihood

MODEL = "gamma_gamma"
MIN_DISTINCT_INPUTS = 3


class GammaGammaParams(NamedTuple):
    """Gamma-Gamma parameters; v in currency units."""

    p: float
    q: float
    v: float


def gamma_gamma_customer_log_likelihood(params, x, m) -> np.ndarray:
    """Per-customer log density of the mean spend m over x > 0 purchases (m > 0)."""
    p, q, v = (float(value) for value in params)
    x, m = float_arrays(x, m)
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * math.log(v)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + m * x)
    )


def gamma_gamma_log_likelihood(params, x, m, weights=None) -> float:
    """Sum (optionally weighted) of the Gamma-Gamma log-likelihood over customers with x > 0, m > 0."""
    return weighted_sum(gamma_gamma_customer_log_likelihood(params, x, m), weights)


class GammaGammaObjective:
    """Mean negative log-likelihood and gradient in log-parameters; gamma functions once per distinct x."""

    def __init__(self, x: np.ndarray, m: np.ndarray, weights: np.ndarray):
        self.weights = weights / weights.sum()
        self.x_values, self.x_index = np.unique(x, return_inverse=True)
        self.weight_per_x = np.bincount(self.x_index, weights=self.weights, minlength=self.x_values.size)
        self.x = x
        self.mx = m * x
        self.weighted_log_m = dot(self.weights, np.log(m))
        self.weighted_x_log_mx = dot(self.weights * x, np.log(self.mx))

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, v = np.exp(theta)
        xv, wx = self.x_values, self.weight_per_x
        px = p * xv
        per_x = gammaln(px + q) - gammaln(px) - gammaln(q) + q * math.log(v)
        shape = (px + q)[self.x_index]
        log_v_mx = np.log(v + self.mx)
        w = self.weights
        log_likelihood = dot(wx, per_x) + p * self.weighted_x_log_mx - self.weighted_log_m - dot(w, shape * log_v_mx)
        digamma_sum = digamma(px + q)
        w_log_v_mx = w * log_v_mx
        d_p = dot(wx * xv, digamma_sum - digamma(px)) + self.weighted_x_log_mx - dot(w_log_v_mx, self.x)
        d_q = dot(wx, digamma_sum) - digamma(q) + math.log(v) - w_log_v_mx.sum()
        d_v = q / v - dot(w * shape, 1.0 / (v + self.mx))
        value = -float(log_likelihood)
        gradient = -np.array([d_p * p, d_q * q, d_v * v])
        if not np.isfinite(value) or not np.all(np.isfinite(gradient)):
            return 1e300, np.zeros(3)
        return value, gradient


def fit_gamma_gamma(x, m, weights=None, *, initial=None, max_iterations: int = 2000) -> ModelFit:
    """Maximum-likelihood Gamma-Gamma fit on the distinct (x, m) rows with x > 0 and m > 0.

    Rows with x <= 0 or a non-positive / non-finite m are ignored. Money is rescaled by the mean m for
    conditioning; the returned v is in currency units.
    """
    started = perf_counter()
    x, m = float_arrays(x, m)
    usable = (x > 0) & np.isfinite(m) & (m > 0)
    if weights is not None:
        weights = np.broadcast_to(np.asarray(weights, dtype=float), x.shape)[usable]
    (ux, um), counts = compress((x[usable], m[usable]), weights)
    if counts.size == 0:
        raise ValueError("fit_gamma_gamma needs at least one customer with x > 0 and m > 0")
    scale = weighted_mean(um, counts)
    objective = GammaGammaObjective(ux, um / scale, counts)
    if initial is None:
        start = np.zeros(3)
    else:
        p0, q0, v0 = (float(value) for value in initial)
        start = np.log([p0, q0, v0 / scale])

    def to_params(theta):
        p, q, v = np.exp(theta)
        return GammaGammaParams(float(p), float(q), float(v * scale))

    return maximise_likelihood(
        MODEL,
        objective,
        start,
        to_params,
        lambda params: gamma_gamma_log_likelihood(params, ux, um, counts),
        counts,
        MIN_DISTINCT_INPUTS,
        max_iterations,
        started,
    )


def gamma_gamma_expected_spend(params, x, m) -> np.ndarray:
    """E[spend per purchase | x, m] = (v + m x) p / (p x + q - 1): a credibility-weighted mix of the
    population mean v p / (q - 1) and the customer's own mean m. Needs q > 1; m < 0 or null counts as 0."""
    p, q, v = (float(value) for value in params)
    if q <= 1.0:
        raise ValueError(f"Gamma-Gamma population mean spend is infinite for q = {q} <= 1")
    x, m = float_arrays(x, m)
    m = np.where(np.isfinite(m), np.maximum(m, 0.0), 0.0)
    x = np.maximum(x, 0.0)
    return (v + m * x) * p / (p * x + q - 1.0)
