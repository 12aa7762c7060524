"""What the BG/NBD and the MBG/NBD share: Poisson purchases with a Gamma rate, beta-geometric dropout.

Both models: while alive, a customer buys at rate ``lambda ~ Gamma(r, alpha)`` (a Poisson process); at each
dropout opportunity they leave for good with probability ``p ~ Beta(a, b)``. They differ only in the
opportunities. In the BG/NBD (Fader, Hardie & Lee 2005) a customer may leave right after each *repeat*
purchase, so everyone makes at least one repeat purchase if they live long enough, and a customer with
``x = 0`` is alive for sure. In the MBG/NBD (Batislam, Denizel & Filiztekin 2007) the first purchase is an
opportunity too, so a one-time buyer may already be gone. With ``d = 1`` for the MBG/NBD and ``0`` for the
BG/NBD, a customer with x repeat purchases in (0, T], the last at t_x, has had x + d opportunities:

    L(lambda, p) = (1-p)^(x+d) lambda^x e^(-lambda T)                  alive at T
                 + [x+d > 0] p (1-p)^(x+d-1) lambda^x e^(-lambda t_x)  left right after the last opportunity

Integrated over the mixing distributions (B = Beta function):

    L = G(r+x) alpha^r / G(r) B(a, b+x+d) / B(a, b)
        x [(alpha+T)^-(r+x) + [x+d > 0] a/(b+x+d-1) (alpha+t_x)^-(r+x)]

so P(alive at T | x, t_x, T) = 1 / (1 + [x+d > 0] a/(b+x+d-1) ((alpha+T)/(alpha+t_x))^(r+x)), and given alive
lambda ~ Gamma(r+x, alpha+T) and p ~ Beta(a, b+x+d) independently.

No purchase in (T, T+t]: a customer who is gone makes none; an alive one makes none exactly when their
Poisson process has no event in the window, because dropout only happens at a purchase. So

    P(X(t) = 0 | x, t_x, T) = 1 - P(alive) + P(alive) E[e^(-lambda t) | alive]
                            = 1 - P(alive) + P(alive) ((alpha+T)/(alpha+T+t))^(r+x)

and E[X(t) | x, t_x, T] = P(alive) E_p[(1 - (1 + p t/(alpha+T))^-(r+x)) / p] (see ``quadrature``).
"""

from __future__ import annotations

import math
from dataclasses import replace
from time import perf_counter

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln

from clientele_clv.arrays import compress, dot, float_arrays, weighted_mean, weighted_sum
from clientele_clv.fitting import ModelFit, maximise_likelihood
from clientele_clv.quadrature import purchases_if_alive

MIN_DISTINCT_INPUTS = 4


def _offset(dropout_at_start: bool) -> float:
    return 1.0 if dropout_at_start else 0.0


def customer_log_likelihood(params, dropout_at_start: bool, x, t_x, T) -> np.ndarray:
    """Per-customer log-likelihood (module docstring), in log space."""
    r, alpha, a, b = (float(v) for v in params)
    d = _offset(dropout_at_start)
    x, t_x, T = float_arrays(x, t_x, T)
    can_have_left = x + d > 0
    with np.errstate(divide="ignore"):
        common = gammaln(r + x) - gammaln(r) + r * math.log(alpha) + betaln(a, b + x + d) - betaln(a, b)
        alive_term = -(r + x) * np.log(alpha + T)
        left_term = np.where(
            can_have_left,
            math.log(a) - np.log(b + np.where(can_have_left, x + d - 1, 0)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return common + np.logaddexp(alive_term, left_term)


def log_likelihood(params, dropout_at_start: bool, x, t_x, T, weights=None) -> float:
    """Sum over customers (optionally weighted, e.g. by counts of distinct rows) of the log-likelihood."""
    return weighted_sum(customer_log_likelihood(params, dropout_at_start, x, t_x, T), weights)


class Objective:
    """Mean negative log-likelihood and its gradient in log-parameters, for distinct weighted rows.

    Terms depending on x, t_x or T alone are evaluated once per distinct value and gathered.
    """

    def __init__(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weights: np.ndarray, dropout_at_start: bool):
        self.d = _offset(dropout_at_start)
        self.weights = weights / weights.sum()
        self.x_values, self.x_index = np.unique(x, return_inverse=True)
        self.tx_values, self.tx_index = np.unique(t_x, return_inverse=True)
        self.T_values, self.T_index = np.unique(T, return_inverse=True)
        self.weight_per_x = np.bincount(self.x_index, weights=self.weights, minlength=self.x_values.size)
        self.can_have_left = x + self.d > 0
        self.opportunities_before_last = np.maximum(self.x_values + self.d - 1.0, 0.0)

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(theta)
        xv, w, d = self.x_values, self.weights, self.d
        per_x = gammaln(r + xv) - gammaln(r) + r * math.log(alpha) + betaln(a, b + xv + d) - betaln(a, b)
        shape = (r + xv)[self.x_index]
        log_alpha_T = np.log(alpha + self.T_values)[self.T_index]
        log_alpha_tx = np.log(alpha + self.tx_values)[self.tx_index]
        b_x = b + self.opportunities_before_last
        log_b_x = np.log(b_x)[self.x_index]
        # log L = per_x + alive + softplus(left - alive); the "left" branch needs a dropout opportunity
        alive = -shape * log_alpha_T
        excess = np.where(self.can_have_left, math.log(a) - log_b_x - shape * (log_alpha_tx - log_alpha_T), -np.inf)
        small = np.exp(-np.abs(excess))
        softplus = np.maximum(excess, 0.0) + np.log1p(small)
        share_left = np.where(excess >= 0, 1.0, small) / (1.0 + small)
        share_alive = 1.0 - share_left
        total = dot(self.weight_per_x, per_x) + dot(w, alive + softplus)

        inverse_alpha_T = (1.0 / (alpha + self.T_values))[self.T_index]
        inverse_alpha_tx = (1.0 / (alpha + self.tx_values))[self.tx_index]
        d_r = dot(self.weight_per_x, digamma(r + xv) - digamma(r) + math.log(alpha)) - dot(
            w, log_alpha_T + share_left * (log_alpha_tx - log_alpha_T)
        )
        d_alpha = r / alpha - dot(w * shape, share_alive * inverse_alpha_T + share_left * inverse_alpha_tx)
        d_a_per_x = digamma(a + b) - digamma(a + b + xv + d)
        d_a = dot(self.weight_per_x, d_a_per_x) + dot(w, share_left) / a
        d_b = dot(self.weight_per_x, digamma(b + xv + d) - digamma(b) + d_a_per_x) - dot(
            w, share_left * (1.0 / b_x)[self.x_index]
        )
        gradient = -np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
        value = -float(total)
        if not np.isfinite(value) or not np.all(np.isfinite(gradient)):
            return 1e300, np.zeros(4)
        return value, gradient


def fit(
    model: str, params_type, dropout_at_start: bool, x, t_x, T, weights=None, *, initial=None, max_iterations=2000
) -> ModelFit:
    """Maximum-likelihood fit on the distinct (x, t_x, T) rows weighted by their counts.

    ``weights`` (optional) multiplies each input row, e.g. counts of rows already made distinct. Time is
    rescaled by the mean T for conditioning; the returned alpha is in days.
    """
    started = perf_counter()
    x, t_x, T = float_arrays(x, t_x, T)
    (ux, utx, uT), counts = compress((x, t_x, T), weights)
    if counts.size == 0:
        raise ValueError(f"fitting the {model} needs at least one customer with positive weight")
    scale = max(weighted_mean(uT, counts), 1.0)
    objective = Objective(ux, utx / scale, uT / scale, counts, dropout_at_start)
    if initial is None:
        start = np.zeros(4)
    else:
        r0, alpha0, a0, b0 = (float(v) for v in initial)
        start = np.log([r0, alpha0 / scale, a0, b0])

    def to_params(theta):
        r, alpha, a, b = np.exp(theta)
        return params_type(float(r), float(alpha * scale), float(a), float(b))

    result = maximise_likelihood(
        model,
        objective,
        start,
        to_params,
        lambda params: log_likelihood(params, dropout_at_start, ux, utx, uT, counts),
        counts,
        MIN_DISTINCT_INPUTS,
        max_iterations,
        started,
    )
    if not np.any(ux > 0):
        result = replace(
            result, converged=False, message=f"nobody made a repeat purchase: the {model} is not identified"
        )
    return result


def log_odds_left(params, dropout_at_start: bool, x, t_x, T) -> np.ndarray:
    """log P(gone at T | x, t_x, T) - log P(alive at T | ...); -inf where nobody can have left."""
    r, alpha, a, b = (float(v) for v in params)
    d = _offset(dropout_at_start)
    x, t_x, T = float_arrays(x, t_x, T)
    can_have_left = x + d > 0
    with np.errstate(divide="ignore"):
        odds = (
            math.log(a)
            - np.log(b + np.where(can_have_left, x + d - 1, 0.0))
            + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        )
    return np.where(can_have_left, odds, -np.inf)


def p_alive(params, dropout_at_start: bool, x, t_x, T) -> np.ndarray:
    """P(alive at T | x, t_x, T) (module docstring); elementwise over broadcast 1-D arrays."""
    return expit(-log_odds_left(params, dropout_at_start, x, t_x, T))


def expected_purchases_if_alive(params, dropout_at_start: bool, t, x, T) -> np.ndarray:
    """E[purchases in (T, T+t] | alive at T, x, T]; elementwise over equally long 1-D arrays."""
    r, alpha, a, b = (float(v) for v in params)
    return purchases_if_alive(r, alpha, a, b + _offset(dropout_at_start), t, x, T)


def expected_purchases(params, dropout_at_start: bool, t, x, t_x, T) -> np.ndarray:
    """E[purchases in (T, T+t] | x, t_x, T] = P(alive) x E[purchases | alive]; broadcasts."""
    t, x, t_x, T = np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in (t, x, t_x, T)])
    shape = t.shape
    t, x, t_x, T = float_arrays(t, x, t_x, T)
    if np.any(t < 0):
        raise ValueError("the prediction window t must be non-negative")
    alive = p_alive(params, dropout_at_start, x, t_x, T)
    return (alive * expected_purchases_if_alive(params, dropout_at_start, t, x, T)).reshape(shape)


def probability_no_purchase(params, dropout_at_start: bool, t, x, t_x, T) -> np.ndarray:
    """P(X(t) = 0 | x, t_x, T): no purchase in (T, T+t] (module docstring); broadcasts.

    The probability of a purchase, q = P(alive) (1 - ((alpha+T)/(alpha+T+t))^(r+x)), is evaluated without
    cancellation (expm1/log1p); the result is 1 - q where q < 1/2 and P(gone) + P(alive)
    ((alpha+T)/(alpha+T+t))^(r+x) (two non-negative terms) elsewhere, so both tails keep their precision.
    """
    r, alpha = float(params[0]), float(params[1])
    t, x, t_x, T = np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in (t, x, t_x, T)])
    shape = t.shape
    t, x, t_x, T = float_arrays(t, x, t_x, T)
    if np.any(t < 0):
        raise ValueError("the prediction window t must be non-negative")
    odds = log_odds_left(params, dropout_at_start, x, t_x, T)
    gone, alive = expit(odds), expit(-odds)
    log_silent_if_alive = -(r + x) * np.log1p(t / (alpha + T))
    purchase = alive * -np.expm1(log_silent_if_alive)
    silent = np.where(purchase < 0.5, 1.0 - purchase, gone + alive * np.exp(log_silent_if_alive))
    return np.clip(silent, 0.0, 1.0).reshape(shape)
