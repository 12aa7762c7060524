"""Customer lifetime value: BG/NBD purchase counts x Gamma-Gamma spend, with a historical fallback.

Time unit: the day. Per customer (computed upstream in dbt, the `lifetimes` convention):

- frequency ``x``: purchase days after the first (a purchase = a distinct day with completed orders);
- recency ``t_x``: days from the first to the last purchase day;
- t ``T``: days from the first purchase day to ``as_of_date``;
- monetary ``m``: mean value of the repeat purchase days (first excluded; 0 or null when ``x == 0``);
- historical_revenue (optional): the customer's total revenue over all purchase days, for the fallback.

Models (all math in log space, vectorised over *distinct* inputs weighted by their counts):

- BG/NBD, Fader, Hardie & Lee (2005) "Counting your customers the easy way": purchases follow a Poisson
  process with rate ``lambda ~ Gamma(r, alpha)``; after each repeat purchase the customer drops out with
  probability ``p ~ Beta(a, b)``. Parameters r, alpha (days), a, b by maximum likelihood (equation 6).
- Gamma-Gamma, Fader, Hardie & Lee (2005) "RFM and CLV" / Fader & Hardie (2013) note: the value of each
  purchase is ``Gamma(p, nu)`` with ``nu ~ Gamma(q, v)``, independent of the purchase process. Fitted on
  customers with ``x > 0`` and ``m > 0``.

The conditional expectation of future purchases (FHL equation 10) contains
``1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))`` divided by ``a - 1``; that form
cancels catastrophically for small ``t/(alpha+T)`` (huge T), is 0/0 at ``a = 1`` and hits poles of the 2F1
when ``a+b+x-1`` is a non-positive integer. It equals (Euler's integral of the 2F1)
``P(alive) * E_p[(1 - (1 + p t/(alpha+T))^-(r+x)) / p]`` with ``p ~ Beta(a, b+x)``, a bounded smooth integrand
valid for every a > 0, which is computed here by Gauss-Jacobi quadrature (see ``_purchases_if_alive``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from time import perf_counter
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.linalg import eigh_tridiagonal
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit, gammaln

METHOD_MODEL = "bg_nbd_gamma_gamma"
METHOD_HISTORICAL = "historical"
DAYS_PER_MONTH = 365.25 / 12
EXPECTED_PURCHASE_WINDOWS_DAYS = (30, 90, 365)
SUMMARY_COLUMNS = ("customer_key", "frequency", "recency", "t", "monetary")
SCORE_COLUMNS = (
    "customer_key",
    "frequency",
    "recency",
    "t",
    "monetary",
    "p_alive",
    "expected_purchases_30d",
    "expected_purchases_90d",
    "expected_purchases_365d",
    "expected_avg_order_value",
    "clv",
    "clv_tier",
    "clv_method",
)
FIT_COLUMNS = ("model", "parameter", "value", "log_likelihood", "n_customers", "converged")
FIT_EXTRA_COLUMNS = ("used_for_scoring", "fit_seconds")

# Optimisation happens on log-parameters inside these bounds (time and money rescaled to O(1) first);
# an estimate ending on a bound means the data do not identify the model (e.g. no heterogeneity).
PARAMETER_LOWER_BOUND = 1e-6
PARAMETER_UPPER_BOUND = 1e6
BOUND_TOLERANCE_LOG = 1e-3
# L-BFGS-B may stop with "abnormal termination in line search" at an optimum that rounding error keeps
# it from improving; such a fit counts as converged when its projected gradient is below this.
ACCEPTED_GRADIENT_NORM = 1e-5
MIN_DISTINCT_BGNBD_INPUTS = 4
MIN_DISTINCT_GAMMA_GAMMA_INPUTS = 3
# A log-parameter whose standard error (inverse observed information) exceeds this, or a likelihood that is
# not curved in every direction, means a flat likelihood: the data do not identify that parameter.
MAX_LOG_PARAMETER_STD_ERROR = 10.0
HESSIAN_STEP_LOG = 1e-4

# Gauss-Jacobi rules for E_p[...], chosen by k = t/(alpha+T). In p the integrand has a branch point at
# p = -1/k, so a rule in p needs more nodes as k grows: (upper bound of k, nodes). Beyond the last bound
# the substitution p = ((1+k)^u - 1)/k moves that point away; that rule needs more nodes as b+x grows
# (the factor (1-p)^(b+x-1) stays in the integrand). Checked against adaptive quadrature to 1e-10.
P_RULES = ((2.0, 16), (5.0, 32), (10.0, 64))
LOG_RULE_NODES_PER_SQRT_B = 10.0
LOG_RULE_MIN_NODES, LOG_RULE_MAX_NODES = 32, 512
QUADRATURE_CHUNK_ELEMENTS = 1 << 21


class BgNbdParams(NamedTuple):
    """BG/NBD parameters; alpha in days."""

    r: float
    alpha: float
    a: float
    b: float


class GammaGammaParams(NamedTuple):
    """Gamma-Gamma parameters; v in currency units."""

    p: float
    q: float
    v: float


@dataclass(frozen=True)
class ModelFit:
    """One maximum-likelihood fit. ``log_likelihood`` is in original units (days, currency)."""

    model: str
    params: BgNbdParams | GammaGammaParams
    log_likelihood: float
    n_customers: float
    n_distinct: int
    converged: bool
    message: str
    iterations: int
    seconds: float
    log_std_errors: tuple[float, ...] = ()  # standard errors of log(parameter) ~ relative standard errors

    def rows(self) -> list[dict]:
        """The fit as rows of the ``fits`` table: one per parameter."""
        return [
            {
                "model": self.model,
                "parameter": name,
                "value": float(value),
                "log_likelihood": float(self.log_likelihood),
                "n_customers": round(self.n_customers),
                "converged": bool(self.converged),
            }
            for name, value in self.params._asdict().items()
        ]


@dataclass
class ClvResult:
    """Scores per customer, the fitted parameters, why anything fell back, and where the time went."""

    scores: pd.DataFrame
    fits: pd.DataFrame
    warnings: list[str]
    timings: dict[str, float]
    as_of_date: date
    horizon_months: int
    monthly_discount_rate: float
    method: str = field(default=METHOD_HISTORICAL)  # METHOD_MODEL when the fitted models were used


@dataclass(frozen=True)
class ClvFits:
    """Both fits, the parameters scoring may use (None = fall back to the historical estimate) and why not."""

    fits: list[ModelFit]
    bgnbd: BgNbdParams | None
    gamma_gamma: GammaGammaParams | None
    warnings: list[str]

    def frame(self) -> pd.DataFrame:
        """One row per model and parameter (FIT_COLUMNS), plus used_for_scoring and fit_seconds."""
        used = {"bg_nbd": self.bgnbd is not None, "gamma_gamma": self.gamma_gamma is not None}
        rows = [
            {**row, "used_for_scoring": used[fit.model], "fit_seconds": fit.seconds}
            for fit in self.fits
            for row in fit.rows()
        ]
        return pd.DataFrame(rows, columns=[*FIT_COLUMNS, *FIT_EXTRA_COLUMNS])

    @classmethod
    def from_frame(cls, frame: pd.DataFrame | pa.Table) -> ClvFits:
        """The usable parameters back from ``frame()`` rows (as stored in the warehouse)."""
        if isinstance(frame, pa.Table):
            frame = frame.to_pandas()
        used = frame[frame["used_for_scoring"].astype(bool)]
        params = {
            model: dict(zip(rows["parameter"], rows["value"].astype(float), strict=True))
            for model, rows in used.groupby("model")
        }
        bgnbd = BgNbdParams(**params["bg_nbd"]) if "bg_nbd" in params else None
        gamma_gamma = GammaGammaParams(**params["gamma_gamma"]) if "gamma_gamma" in params else None
        return cls(fits=[], bgnbd=bgnbd, gamma_gamma=gamma_gamma, warnings=[])


@dataclass(frozen=True)
class SimulatedCustomers:
    """Calibration summary of simulated BG/NBD customers plus what happened next (for validation)."""

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    holdout_purchases: np.ndarray
    alive_at_T: np.ndarray


# ---------------------------------------------------------------------------------------------------------
# helpers


def _float_arrays(*values) -> list[np.ndarray]:
    arrays = np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in values])
    return [np.ascontiguousarray(a).ravel() for a in arrays]


def distinct_rows(*columns) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Distinct rows of equally long 1-D columns: (distinct columns, inverse index, counts), sorted."""
    arrays = _float_arrays(*columns)
    n = arrays[0].size
    if n == 0:
        return [a.copy() for a in arrays], np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int64)
    key = _packed_integer_key(arrays)
    if key is not None:
        _, first, inverse, counts = np.unique(key, return_index=True, return_inverse=True, return_counts=True)
        return [a[first] for a in arrays], inverse.ravel(), counts
    order = np.lexsort(tuple(reversed(arrays)))
    ordered = [a[order] for a in arrays]
    starts_group = np.ones(n, dtype=bool)
    starts_group[1:] = np.logical_or.reduce([np.diff(a) != 0 for a in ordered])
    group_of_sorted = np.cumsum(starts_group) - 1
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = group_of_sorted
    starts = np.flatnonzero(starts_group)
    counts = np.diff(np.append(starts, n))
    return [a[starts] for a in ordered], inverse, counts


def _packed_integer_key(arrays: list[np.ndarray]) -> np.ndarray | None:
    """One int64 per row when every column holds small non-negative integers (day counts), else None."""
    spans = []
    for a in arrays:
        if not (np.all(a >= 0) and np.all(a <= 2**31) and np.all(a == np.floor(a))):
            return None
        spans.append(int(a.max()) + 1)
    if math.prod(spans) >= 2**62:
        return None
    key = np.zeros(arrays[0].size, dtype=np.int64)
    for a, span in zip(arrays, spans, strict=True):
        key = key * span + a.astype(np.int64)
    return key


def _compress(columns: Sequence[np.ndarray], weights) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows and the summed weight of each (rows with zero weight dropped)."""
    distinct, inverse, counts = distinct_rows(*columns)
    if weights is None:
        summed = counts.astype(float)
    else:
        weights = np.broadcast_to(np.asarray(weights, dtype=float), inverse.shape)
        summed = np.bincount(inverse, weights=weights, minlength=counts.size)
    keep = summed > 0
    return [c[keep] for c in distinct], summed[keep]


def _bgnbd_params(params) -> BgNbdParams:
    return params if isinstance(params, BgNbdParams) else BgNbdParams(*(float(v) for v in params))


def _gamma_gamma_params(params) -> GammaGammaParams:
    return params if isinstance(params, GammaGammaParams) else GammaGammaParams(*(float(v) for v in params))


def _dot(left: np.ndarray, right: np.ndarray) -> float:
    """Inner product without BLAS (whose thread pool thrashes on a busy 2-core box)."""
    return float(np.einsum("i,i->", left, right))


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    total = float(weights.sum())
    return _dot(values, weights) / total if total > 0 else 0.0


def _minimise(objective, start: np.ndarray, max_iterations: int):
    bounds = [(math.log(PARAMETER_LOWER_BOUND), math.log(PARAMETER_UPPER_BOUND))] * start.size
    with np.errstate(all="ignore"):
        result = minimize(
            objective,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": max_iterations, "ftol": 1e-13, "gtol": 1e-9, "maxcor": 20},
        )
    low, high = (np.array(b) for b in zip(*bounds, strict=True))
    at_bound = (result.x - low < BOUND_TOLERANCE_LOG) | (high - result.x < BOUND_TOLERANCE_LOG)
    projected_gradient = np.where(at_bound, 0.0, result.jac)
    small_gradient = bool(np.all(np.isfinite(result.jac))) and float(np.max(np.abs(projected_gradient))) < (
        ACCEPTED_GRADIENT_NORM
    )
    return result, at_bound, bool(result.success) or small_gradient


def _log_std_errors(objective, theta: np.ndarray, n_customers: float) -> np.ndarray:
    """Standard errors of the log-parameters from the observed information (central differences of the
    analytic gradient of the mean negative log-likelihood); inf where the likelihood is not curved."""
    size = theta.size
    steps = HESSIAN_STEP_LOG * np.eye(size)
    hessian = np.array(
        [(objective(theta + step)[1] - objective(theta - step)[1]) / (2 * HESSIAN_STEP_LOG) for step in steps]
    )
    hessian = (hessian + hessian.T) / 2.0
    if not np.all(np.isfinite(hessian)) or np.linalg.eigvalsh(hessian).min() <= 0:
        return np.full(size, np.inf)
    variances = np.diag(np.linalg.inv(hessian)) / n_customers
    return np.sqrt(np.where(variances > 0, variances, np.inf))


def _assess_fit(
    objective,
    result,
    optimiser_converged: bool,
    at_bound: np.ndarray,
    names: Sequence[str],
    log_likelihood: float,
    counts: np.ndarray,
    min_distinct: int,
) -> tuple[bool, str, np.ndarray]:
    """Is the estimate usable? Returns (usable, reason, standard errors of the log-parameters)."""
    std_errors = np.full(len(names), np.nan)
    if counts.size < min_distinct:
        reason = (
            f"only {counts.size} distinct input row(s), fewer than {min_distinct}: "
            "the parameters are not identified (degenerate data)"
        )
        return False, reason, std_errors
    if not math.isfinite(log_likelihood):
        return False, "log-likelihood is not finite at the estimate", std_errors
    if at_bound.any():
        hit = ", ".join(n for n, b in zip(names, at_bound, strict=True) if b)
        return False, f"parameter(s) {hit} ended on the search bound: the data do not identify the model", std_errors
    if not optimiser_converged:
        return False, f"optimiser did not converge: {result.message}", std_errors
    std_errors = _log_std_errors(objective, result.x, float(counts.sum()))
    flat = ~(std_errors <= MAX_LOG_PARAMETER_STD_ERROR)
    if flat.any():
        hit = ", ".join(n for n, f in zip(names, flat, strict=True) if f)
        return False, f"the likelihood is flat in parameter(s) {hit}: the data do not identify the model", std_errors
    return True, "converged", std_errors


# ---------------------------------------------------------------------------------------------------------
# BG/NBD


def bgnbd_customer_log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Per-customer log of FHL (2005) equation (6), computed in log space."""
    r, alpha, a, b = _bgnbd_params(params)
    x, t_x, T = _float_arrays(x, t_x, T)
    repeat = x > 0
    with np.errstate(divide="ignore"):
        common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
        alive_term = -(r + x) * np.log(alpha + T)
        dropped_term = np.where(
            repeat,
            math.log(a) - np.log(b + np.where(repeat, x - 1, 0)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return common + np.logaddexp(alive_term, dropped_term)


def bgnbd_log_likelihood(params, x, t_x, T, weights=None) -> float:
    """Sum over customers (optionally weighted, e.g. by counts of distinct rows) of FHL equation (6)."""
    terms = bgnbd_customer_log_likelihood(params, x, t_x, T)
    if weights is None:
        return float(terms.sum())
    return _dot(np.ascontiguousarray(np.broadcast_to(np.asarray(weights, dtype=float), terms.shape)), terms)


class _BgNbdObjective:
    """Mean negative log-likelihood and its gradient in log-parameters, for distinct weighted rows.

    Terms depending on x, t_x or T alone are evaluated once per distinct value and gathered.
    """

    def __init__(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weights: np.ndarray):
        self.weights = weights / weights.sum()
        self.x_values, self.x_index = np.unique(x, return_inverse=True)
        self.tx_values, self.tx_index = np.unique(t_x, return_inverse=True)
        self.T_values, self.T_index = np.unique(T, return_inverse=True)
        self.weight_per_x = np.bincount(self.x_index, weights=self.weights, minlength=self.x_values.size)
        self.repeat = x > 0
        self.x_minus_one_values = np.maximum(self.x_values - 1.0, 0.0)

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(theta)
        xv, w = self.x_values, self.weights
        per_x = gammaln(r + xv) - gammaln(r) + r * math.log(alpha) + betaln(a, b + xv) - betaln(a, b)
        shape = (r + xv)[self.x_index]
        log_alpha_T = np.log(alpha + self.T_values)[self.T_index]
        log_alpha_tx = np.log(alpha + self.tx_values)[self.tx_index]
        b_x = b + self.x_minus_one_values
        log_b_x = np.log(b_x)[self.x_index]
        # log L = per_x + alive + softplus(dropped - alive); dropped only exists for repeat customers
        alive = -shape * log_alpha_T
        excess = np.where(self.repeat, math.log(a) - log_b_x - shape * (log_alpha_tx - log_alpha_T), -np.inf)
        small = np.exp(-np.abs(excess))
        softplus = np.maximum(excess, 0.0) + np.log1p(small)
        share_dropped = np.where(excess >= 0, 1.0, small) / (1.0 + small)
        share_alive = 1.0 - share_dropped
        log_likelihood = _dot(self.weight_per_x, per_x) + _dot(w, alive + softplus)

        inverse_alpha_T = (1.0 / (alpha + self.T_values))[self.T_index]
        inverse_alpha_tx = (1.0 / (alpha + self.tx_values))[self.tx_index]
        d_r = _dot(self.weight_per_x, digamma(r + xv) - digamma(r) + math.log(alpha)) - _dot(
            w, log_alpha_T + share_dropped * (log_alpha_tx - log_alpha_T)
        )
        d_alpha = r / alpha - _dot(w * shape, share_alive * inverse_alpha_T + share_dropped * inverse_alpha_tx)
        d_a_per_x = digamma(a + b) - digamma(a + b + xv)
        d_a = _dot(self.weight_per_x, d_a_per_x) + _dot(w, share_dropped) / a
        d_b = _dot(self.weight_per_x, digamma(b + xv) - digamma(b) + d_a_per_x) - _dot(
            w, share_dropped * (1.0 / b_x)[self.x_index]
        )
        gradient = -np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
        value = -float(log_likelihood)
        if not np.isfinite(value) or not np.all(np.isfinite(gradient)):
            return 1e300, np.zeros(4)
        return value, gradient


def fit_bgnbd(x, t_x, T, weights=None, *, initial=None, max_iterations: int = 2000) -> ModelFit:
    """Maximum-likelihood BG/NBD fit on the distinct (x, t_x, T) rows weighted by their counts.

    ``weights`` (optional) multiplies each input row, e.g. counts of rows already made distinct.
    Time is rescaled by the mean T for conditioning; the returned alpha is in days.
    """
    started = perf_counter()
    x, t_x, T = _float_arrays(x, t_x, T)
    (ux, utx, uT), counts = _compress((x, t_x, T), weights)
    if counts.size == 0:
        raise ValueError("fit_bgnbd needs at least one customer with positive weight")
    scale = max(_weighted_mean(uT, counts), 1.0)
    objective = _BgNbdObjective(ux, utx / scale, uT / scale, counts)
    if initial is None:
        start = np.zeros(4)
    else:
        r0, alpha0, a0, b0 = _bgnbd_params(initial)
        start = np.log([r0, alpha0 / scale, a0, b0])
    result, at_bound, optimiser_converged = _minimise(objective, start, max_iterations)
    r, alpha, a, b = np.exp(result.x)
    params = BgNbdParams(float(r), float(alpha * scale), float(a), float(b))
    log_likelihood = bgnbd_log_likelihood(params, ux, utx, uT, counts)
    converged, message, std_errors = _assess_fit(
        objective,
        result,
        optimiser_converged,
        at_bound,
        BgNbdParams._fields,
        log_likelihood,
        counts,
        MIN_DISTINCT_BGNBD_INPUTS,
    )
    if not np.any(ux > 0):
        converged, message = False, "nobody made a repeat purchase: the BG/NBD is not identified"
    return ModelFit(
        model="bg_nbd",
        params=params,
        log_likelihood=log_likelihood,
        n_customers=float(counts.sum()),
        n_distinct=int(counts.size),
        converged=converged,
        message=message,
        iterations=int(result.nit),
        seconds=perf_counter() - started,
        log_std_errors=tuple(float(e) for e in std_errors),
    )


def bgnbd_p_alive(params, x, t_x, T) -> np.ndarray:
    """P(alive at T | x, t_x, T) = 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)) (FHL eq. 12)."""
    r, alpha, a, b = _bgnbd_params(params)
    x, t_x, T = _float_arrays(x, t_x, T)
    repeat = x > 0
    log_odds_dead = (
        math.log(a) - np.log(b + np.where(repeat, x - 1, 0.0)) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    )
    return np.where(repeat, expit(-log_odds_dead), 1.0)


def _jacobi_beta_rules(a: float, b_values: np.ndarray, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss rules for the Beta(a, b) probability measures on [0, 1], one per b (Golub-Welsch).

    Returns nodes and weights of shape (len(b_values), n_nodes); weights sum to 1.
    """
    # Jacobi weight (1-y)^alpha_j (1+y)^beta_j on [-1, 1] with u = (1+y)/2.
    alpha_j = np.asarray(b_values, dtype=float)[:, None] - 1.0
    beta_j = a - 1.0
    k = np.arange(n_nodes, dtype=float)[None, :]
    sum_ab = alpha_j + beta_j
    two_k = 2.0 * k + sum_ab
    with np.errstate(divide="ignore", invalid="ignore"):
        diagonal = (beta_j**2 - alpha_j**2) / (two_k * (two_k + 2.0))
    diagonal[:, 0] = ((beta_j - alpha_j) / (sum_ab + 2.0))[:, 0]
    k1 = k[:, 1:]
    two_k1 = two_k[:, 1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        off_squared = (
            4.0 * k1 * (k1 + alpha_j) * (k1 + beta_j) * (k1 + sum_ab) / (two_k1**2 * (two_k1 + 1.0) * (two_k1 - 1.0))
        )
    off_squared[:, 0] = (4.0 * (1.0 + alpha_j) * (1.0 + beta_j) / ((2.0 + sum_ab) ** 2 * (3.0 + sum_ab)))[:, 0]
    diagonal = (1.0 + diagonal) / 2.0
    off = np.sqrt(off_squared) / 2.0
    nodes = np.empty((alpha_j.shape[0], n_nodes))
    weights = np.empty_like(nodes)
    for group in range(alpha_j.shape[0]):  # one small tridiagonal eigenproblem per distinct b
        nodes[group], vectors = eigh_tridiagonal(diagonal[group], off[group])
        weights[group] = vectors[0] ** 2
    nodes = np.clip(nodes, np.finfo(float).tiny, 1.0 - np.finfo(float).epsneg)
    return nodes, weights / weights.sum(axis=1, keepdims=True)


def _log_rule_split(b_prime: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split b'-1 = e + m, m a non-negative integer kept in the integrand, e in (-1, 1) kept in the weight."""
    integer_part = np.maximum(np.floor(b_prime - 1.0), 0.0)
    return b_prime - 1.0 - integer_part, integer_part


def _quadrature_nodes(k: np.ndarray, b_prime: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per element: whether the log substitution is used, and the number of Gauss nodes."""
    use_log = k > P_RULES[-1][0]
    n_nodes = np.select([k <= upper for upper, _ in P_RULES], [n for _, n in P_RULES], default=0)
    log_nodes = 2.0 ** np.ceil(np.log2(LOG_RULE_NODES_PER_SQRT_B * np.sqrt(b_prime)))
    log_nodes = np.clip(log_nodes, LOG_RULE_MIN_NODES, LOG_RULE_MAX_NODES).astype(int)
    return use_log, np.where(use_log, log_nodes, n_nodes)


def _purchases_if_alive(params: BgNbdParams, t: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """E[purchases in (T, T+t] | alive at T, x, T] = E_p[(1 - (1 + p k)^-(r+x)) / p], p ~ Beta(a, b+x).

    k = t/(alpha+T). Equals (a+b+x-1)/(a-1) [1 - (1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z)], z = t/(alpha+T+t),
    by Euler's integral and Pfaff's transformation. Gauss-Jacobi quadrature with the Beta weight built in
    (see P_RULES). Elementwise over equally long 1-D arrays.
    """
    r, alpha, a, b = params
    k = t / (alpha + T)
    shape_lambda = r + x
    result = np.zeros_like(k)
    x_values, x_index = np.unique(x, return_inverse=True)
    use_log, n_nodes = _quadrature_nodes(k, b + x)
    for substitution in (False, True):
        for n in np.unique(n_nodes[(use_log == substitution) & (k > 0)]):
            chosen = np.flatnonzero((use_log == substitution) & (n_nodes == n) & (k > 0))
            _integrate_if_alive(a, b, k, shape_lambda, x_values, x_index, chosen, int(n), substitution, result)
    return result


def _integrate_if_alive(a, b, k, shape_lambda, x_values, x_index, chosen, n_nodes, log_substitution, result):
    """Fill result[chosen] with one Gauss rule; node sets per distinct x (i.e. per Beta(a, b+x))."""
    groups, group_of_chosen = np.unique(x_index[chosen], return_inverse=True)
    b_prime = b + x_values[groups]
    if log_substitution:
        extra, integer_part = _log_rule_split(b_prime)
        nodes, weights = _jacobi_beta_rules(a, extra + 1.0, n_nodes)
        log_norm = betaln(a, extra + 1.0) - betaln(a, b_prime)
    else:
        nodes, weights = _jacobi_beta_rules(a, b_prime, n_nodes)
    chunk = max(1, QUADRATURE_CHUNK_ELEMENTS // n_nodes)
    for start in range(0, chosen.size, chunk):
        rows = chosen[start : start + chunk]
        group = group_of_chosen[start : start + chunk]
        kk = k[rows, None]
        ss = shape_lambda[rows, None]
        u = nodes[group]
        if not log_substitution:
            integrand = -np.expm1(-ss * np.log1p(u * kk)) / u
            result[rows] = np.sum(weights[group] * integrand, axis=1)
            continue
        # p = ((1+k)^u - 1)/k: dp = log(1+k)(1+k)^u/k du, and 1 - (1+pk)^-s = 1 - (1+k)^(-s u).
        log1p_k = np.log1p(kk)
        one_minus_u = 1.0 - u
        p = np.expm1(log1p_k * u) / kk
        log_one_minus_p = log1p_k + np.log(-np.expm1(-log1p_k * one_minus_u)) - np.log(kk)
        log_integrand = (
            (a - 2.0) * np.log(p / u)
            + np.log(log1p_k)
            + log1p_k * u
            - np.log(kk)
            + np.log(-np.expm1(-ss * log1p_k * u) / u)
            + extra[group, None] * (log_one_minus_p - np.log(one_minus_u))
            + integer_part[group, None] * log_one_minus_p
        )
        result[rows] = np.exp(log_norm[group]) * np.sum(weights[group] * np.exp(log_integrand), axis=1)


def bgnbd_expected_purchases(params, t, x, t_x, T) -> np.ndarray:
    """E[purchases in (T, T+t] | x, t_x, T] (FHL 2005 eq. 10) = P(alive) x E[purchases | alive]; broadcasts."""
    params = _bgnbd_params(params)
    t, x, t_x, T = np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in (t, x, t_x, T)])
    shape = t.shape
    t, x, t_x, T = _float_arrays(t, x, t_x, T)
    if np.any(t < 0):
        raise ValueError("the prediction window t must be non-negative")
    expected = bgnbd_p_alive(params, x, t_x, T) * _purchases_if_alive(params, t, x, T)
    return expected.reshape(shape)


# ---------------------------------------------------------------------------------------------------------
# Gamma-Gamma


def gamma_gamma_customer_log_likelihood(params, x, m) -> np.ndarray:
    """Per-customer log density of the mean spend m over x > 0 purchases (m > 0)."""
    p, q, v = _gamma_gamma_params(params)
    x, m = _float_arrays(x, m)
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
    terms = gamma_gamma_customer_log_likelihood(params, x, m)
    if weights is None:
        return float(terms.sum())
    return _dot(np.ascontiguousarray(np.broadcast_to(np.asarray(weights, dtype=float), terms.shape)), terms)


class _GammaGammaObjective:
    """Mean negative log-likelihood and gradient in log-parameters; gamma functions once per distinct x."""

    def __init__(self, x: np.ndarray, m: np.ndarray, weights: np.ndarray):
        self.weights = weights / weights.sum()
        self.x_values, self.x_index = np.unique(x, return_inverse=True)
        self.weight_per_x = np.bincount(self.x_index, weights=self.weights, minlength=self.x_values.size)
        self.x = x
        self.mx = m * x
        self.weighted_log_m = _dot(self.weights, np.log(m))
        self.weighted_x_log_mx = _dot(self.weights * x, np.log(self.mx))

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, v = np.exp(theta)
        xv, wx = self.x_values, self.weight_per_x
        px = p * xv
        per_x = gammaln(px + q) - gammaln(px) - gammaln(q) + q * math.log(v)
        shape = (px + q)[self.x_index]
        log_v_mx = np.log(v + self.mx)
        w = self.weights
        log_likelihood = _dot(wx, per_x) + p * self.weighted_x_log_mx - self.weighted_log_m - _dot(w, shape * log_v_mx)
        digamma_sum = digamma(px + q)
        w_log_v_mx = w * log_v_mx
        d_p = _dot(wx * xv, digamma_sum - digamma(px)) + self.weighted_x_log_mx - _dot(w_log_v_mx, self.x)
        d_q = _dot(wx, digamma_sum) - digamma(q) + math.log(v) - w_log_v_mx.sum()
        d_v = q / v - _dot(w * shape, 1.0 / (v + self.mx))
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
    x, m = _float_arrays(x, m)
    usable = (x > 0) & np.isfinite(m) & (m > 0)
    if weights is not None:
        weights = np.broadcast_to(np.asarray(weights, dtype=float), x.shape)[usable]
    (ux, um), counts = _compress((x[usable], m[usable]), weights)
    if counts.size == 0:
        raise ValueError("fit_gamma_gamma needs at least one customer with x > 0 and m > 0")
    scale = _weighted_mean(um, counts)
    objective = _GammaGammaObjective(ux, um / scale, counts)
    if initial is None:
        start = np.zeros(3)
    else:
        p0, q0, v0 = _gamma_gamma_params(initial)
        start = np.log([p0, q0, v0 / scale])
    result, at_bound, optimiser_converged = _minimise(objective, start, max_iterations)
    p, q, v = np.exp(result.x)
    params = GammaGammaParams(float(p), float(q), float(v * scale))
    log_likelihood = gamma_gamma_log_likelihood(params, ux, um, counts)
    converged, message, std_errors = _assess_fit(
        objective,
        result,
        optimiser_converged,
        at_bound,
        GammaGammaParams._fields,
        log_likelihood,
        counts,
        MIN_DISTINCT_GAMMA_GAMMA_INPUTS,
    )
    return ModelFit(
        model="gamma_gamma",
        params=params,
        log_likelihood=log_likelihood,
        n_customers=float(counts.sum()),
        n_distinct=int(counts.size),
        converged=converged,
        message=message,
        iterations=int(result.nit),
        seconds=perf_counter() - started,
        log_std_errors=tuple(float(e) for e in std_errors),
    )


def gamma_gamma_expected_spend(params, x, m) -> np.ndarray:
    """E[spend per purchase | x, m] = (v + m x) p / (p x + q - 1): a credibility-weighted mix of the
    population mean v p / (q - 1) and the customer's own mean m. Needs q > 1; m < 0 or null counts as 0."""
    p, q, v = _gamma_gamma_params(params)
    if q <= 1.0:
        raise ValueError(f"Gamma-Gamma population mean spend is infinite for q = {q} <= 1")
    x, m = _float_arrays(x, m)
    m = np.where(np.isfinite(m), np.maximum(m, 0.0), 0.0)
    x = np.maximum(x, 0.0)
    return (v + m * x) * p / (p * x + q - 1.0)


# ---------------------------------------------------------------------------------------------------------
# scoring


def clv_tiers(clv, high_share: float = 0.2, medium_share: float = 0.3) -> np.ndarray:
    """Quantile tiers among customers with a positive CLV: ranked by CLV descending, the first
    ``high_share`` of them are 'high', the next ``medium_share`` 'medium', the rest 'low'; CLV <= 0 is
    'none'. Ties share the better tier. The cut-offs are ceil(share x number of positive CLVs)."""
    if not (0 <= high_share <= 1 and 0 <= medium_share <= 1 and high_share + medium_share <= 1):
        raise ValueError("high_share and medium_share must be in [0, 1] and sum to at most 1")
    clv = np.asarray(clv, dtype=float)
    tiers = np.full(clv.shape, "none", dtype=object)
    positive = np.isfinite(clv) & (clv > 0)
    n_positive = int(positive.sum())
    if n_positive == 0:
        return tiers
    values = clv[positive]
    descending = -np.sort(-values)
    high_cut = math.ceil(high_share * n_positive - 1e-9)
    medium_cut = math.ceil((high_share + medium_share) * n_positive - 1e-9)
    # a value is within the first `cut` ranks (ties counted at their best rank) iff >= the cut-th largest
    high_floor = descending[high_cut - 1] if high_cut else math.inf
    medium_floor = descending[medium_cut - 1] if medium_cut else math.inf
    tiers[positive] = np.where(values >= high_floor, "high", np.where(values >= medium_floor, "medium", "low"))
    return tiers


def monthly_discount_factors(horizon_months: int, monthly_discount_rate: float) -> np.ndarray:
    """1/(1+d)^m for months m = 1..horizon: each month's value is discounted at its end."""
    return (1.0 + monthly_discount_rate) ** -np.arange(1, horizon_months + 1, dtype=float)


def historical_scores(
    frequency: np.ndarray,
    t: np.ndarray,
    revenue: np.ndarray,
    horizon_months: int,
    monthly_discount_rate: float,
    min_tenure_days: float = 365.0,
) -> dict[str, np.ndarray]:
    """The fallback: project the trailing spend rate without churn.

    tenure = max(T, ``min_tenure_days``) days (a customer younger than that counts their revenue as that
    period's worth); spend rate = historical revenue / tenure per day; CLV = the discounted sum over the
    horizon of rate x days per month (negative revenue counts as 0). Consistently, expected purchases =
    (x+1)/tenure per day x window, expected spend per purchase = revenue/(x+1), and p_alive = 1 (the
    projection assumes every customer keeps buying).
    """
    tenure = np.maximum(t, min_tenure_days)
    revenue = np.where(np.isfinite(revenue), np.maximum(revenue, 0.0), 0.0)
    purchase_days = frequency + 1.0
    monthly_spend = revenue / tenure * DAYS_PER_MONTH
    scores = {
        "p_alive": np.ones_like(t),
        "expected_avg_order_value": revenue / purchase_days,
        "clv": monthly_spend * monthly_discount_factors(horizon_months, monthly_discount_rate).sum(),
    }
    for days in EXPECTED_PURCHASE_WINDOWS_DAYS:
        scores[f"expected_purchases_{days}d"] = purchase_days / tenure * days
    return scores


def model_scores(
    bgnbd: BgNbdParams,
    gamma_gamma: GammaGammaParams,
    frequency: np.ndarray,
    recency: np.ndarray,
    t: np.ndarray,
    monetary: np.ndarray,
    horizon_months: int,
    monthly_discount_rate: float,
) -> dict[str, np.ndarray]:
    """BG/NBD x Gamma-Gamma scores. CLV = sum over months m of E[purchases in month m] x E[spend per
    purchase] / (1+d)^m, months of 365.25/12 days; E[purchases] evaluated once per distinct (x, T)."""
    windows = np.array(
        [*EXPECTED_PURCHASE_WINDOWS_DAYS, *(DAYS_PER_MONTH * np.arange(1, horizon_months + 1))], dtype=float
    )
    (pair_x, pair_t), pair_of_customer, _ = distinct_rows(frequency, t)
    n_pairs, n_windows = pair_x.size, len(EXPECTED_PURCHASE_WINDOWS_DAYS)
    if_alive = _purchases_if_alive(
        bgnbd, np.tile(windows, n_pairs), np.repeat(pair_x, windows.size), np.repeat(pair_t, windows.size)
    ).reshape(n_pairs, windows.size)
    cumulative = np.concatenate([np.zeros((n_pairs, 1)), if_alive[:, n_windows:]], axis=1)
    per_month = np.maximum(np.diff(cumulative, axis=1), 0.0)
    discounted = np.einsum("ij,j->i", per_month, monthly_discount_factors(horizon_months, monthly_discount_rate))
    p_alive = bgnbd_p_alive(bgnbd, frequency, recency, t)
    spend = gamma_gamma_expected_spend(gamma_gamma, frequency, monetary)
    scores = {
        "p_alive": p_alive,
        "expected_avg_order_value": spend,
        "clv": p_alive * discounted[pair_of_customer] * spend,
    }
    for column, days in enumerate(EXPECTED_PURCHASE_WINDOWS_DAYS):
        scores[f"expected_purchases_{days}d"] = p_alive * if_alive[pair_of_customer, column]
    return scores


def _whole_if_integral(values: np.ndarray) -> np.ndarray:
    """Day counts back as int64 when they are whole numbers (they are, from the warehouse)."""
    return values.astype(np.int64) if np.all(values == np.round(values)) else values


def _numeric_column(frame: pd.DataFrame, name: str) -> np.ndarray:
    return frame[name].to_numpy(dtype=float, na_value=np.nan)


def _summary_frame(summary: pd.DataFrame | pa.Table) -> pd.DataFrame:
    if isinstance(summary, pa.Table):
        columns = {}
        for name in summary.column_names:
            column = summary[name]
            if name != "customer_key" and pa.types.is_decimal(column.type):
                column = pc.cast(column, pa.float64())
            columns[name] = column
        summary = pa.table(columns).to_pandas()
    missing = [c for c in SUMMARY_COLUMNS if c not in summary.columns]
    if missing:
        raise ValueError(f"the CLV summary is missing column(s) {missing}; expected {list(SUMMARY_COLUMNS)}")
    return summary


def _validate_summary(frame: pd.DataFrame, frequency, recency, t) -> None:
    bad = (
        ~np.isfinite(frequency)
        | ~np.isfinite(recency)
        | ~np.isfinite(t)
        | (frequency < 0)
        | (recency < 0)
        | (recency > t)
    )
    if bad.any():
        examples = frame["customer_key"].to_numpy()[bad][:5].tolist()
        raise ValueError(
            f"{int(bad.sum())} CLV summary row(s) violate 0 <= recency <= t and frequency >= 0 "
            f"(or hold nulls), e.g. customer_key {examples}"
        )


def _fit_models(
    frequency, recency, t, monetary, min_customers: int, min_repeat_customers: int, warnings: list[str]
) -> tuple[list[ModelFit], BgNbdParams | None, GammaGammaParams | None]:
    """Fit both models where the data allow; the usable parameters (or None) and why not, in ``warnings``."""
    n_customers = frequency.size
    repeat = frequency > 0
    n_repeat = int(repeat.sum())
    spend_usable = repeat & np.isfinite(monetary) & (monetary > 0)
    n_spend = int(spend_usable.sum())
    if n_customers == 0:
        warnings.append("no customers to score")
        return [], None, None
    if n_customers < min_customers:
        warnings.append(f"models not fitted: {n_customers} customers < clv_min_customers = {min_customers}")
        return [], None, None
    if n_repeat < min_repeat_customers:
        warnings.append(
            f"models not fitted: {n_repeat} repeat customers < clv_min_repeat_customers = {min_repeat_customers}"
        )
        return [], None, None

    fits: list[ModelFit] = []
    bgnbd = gamma_gamma = None
    bgnbd_fit = _guarded_fit("BG/NBD", fit_bgnbd, warnings, frequency, recency, t)
    if bgnbd_fit is not None:
        fits.append(bgnbd_fit)
        if bgnbd_fit.converged:
            bgnbd = bgnbd_fit.params
        else:
            warnings.append(f"BG/NBD fit failed: {bgnbd_fit.message}")

    if n_repeat > n_spend:
        warnings.append(f"{n_repeat - n_spend} repeat customer(s) without a positive monetary value skipped")
    if n_spend == 0 or n_spend < min_repeat_customers:
        warnings.append(
            f"Gamma-Gamma not fitted: {n_spend} repeat customers with positive spend < "
            f"clv_min_repeat_customers = {min_repeat_customers}"
        )
        return fits, bgnbd, None
    gamma_gamma_fit = _guarded_fit("Gamma-Gamma", fit_gamma_gamma, warnings, frequency, monetary)
    if gamma_gamma_fit is not None:
        fits.append(gamma_gamma_fit)
        if not gamma_gamma_fit.converged:
            warnings.append(f"Gamma-Gamma fit failed: {gamma_gamma_fit.message}")
        elif gamma_gamma_fit.params.q <= 1.0:
            warnings.append(f"Gamma-Gamma q = {gamma_gamma_fit.params.q:.4g} <= 1: mean spend per purchase is infinite")
        else:
            gamma_gamma = gamma_gamma_fit.params
    return fits, bgnbd, gamma_gamma


def _guarded_fit(label: str, fit, warnings: list[str], *columns) -> ModelFit | None:
    """A fit that cannot crash scoring: numerical errors become a warning (and the fallback)."""
    try:
        return fit(*columns)
    except (ArithmeticError, ValueError, np.linalg.LinAlgError) as exc:
        warnings.append(f"{label} fit raised {type(exc).__name__}: {exc}")
        return None


def _check_as_of(frame: pd.DataFrame, as_of_date: date) -> None:
    """The summary's own as_of_date column (when present) must be the date scored against."""
    if "as_of_date" not in frame.columns:
        return
    found = set(pd.to_datetime(frame["as_of_date"]).dropna().dt.date.unique())
    if found - {as_of_date}:
        raise ValueError(f"the summary was computed as of {sorted(found)}, not {as_of_date}")


def fit_clv_models(
    summary: pd.DataFrame | pa.Table, min_customers: int = 50, min_repeat_customers: int = 20
) -> ClvFits:
    """Fit BG/NBD and Gamma-Gamma on a calibration summary (see ``score_customers`` for its columns)."""
    frame = _summary_frame(summary)
    frequency, recency, t = (_numeric_column(frame, c) for c in ("frequency", "recency", "t"))
    monetary = _numeric_column(frame, "monetary")
    _validate_summary(frame, frequency, recency, t)
    warnings: list[str] = []
    fits, bgnbd, gamma_gamma = _fit_models(
        frequency, recency, t, monetary, min_customers, min_repeat_customers, warnings
    )
    return ClvFits(fits=fits, bgnbd=bgnbd, gamma_gamma=gamma_gamma, warnings=warnings)


def score_customers(
    summary: pd.DataFrame | pa.Table,
    as_of_date: date,
    horizon_months: int = 12,
    monthly_discount_rate: float = 0.01,
    min_customers: int = 50,
    min_repeat_customers: int = 20,
    *,
    high_share: float = 0.2,
    medium_share: float = 0.3,
    historical_min_tenure_days: float = 365.0,
    fitted: ClvFits | None = None,
) -> ClvResult:
    """Score every customer of the summary with BG/NBD x Gamma-Gamma, or the historical fallback.

    ``summary`` columns: customer_key, frequency, recency, t, monetary (days and currency as in the module
    docstring) and optionally ``historical_revenue`` (the customer's total revenue, first purchase day
    included) for the fallback; without it revenue is approximated as monetary x (frequency + 1). Other
    columns are ignored. Rows violating 0 <= recency <= t raise ValueError (a broken upstream contract).

    The models are used for everyone when both fits converge and identify their parameters; otherwise
    every customer gets the historical estimate (see ``historical_scores``) and ``warnings`` says why:
    fewer than ``min_customers`` customers or ``min_repeat_customers`` repeat buyers, too few distinct
    inputs, non-convergence, a parameter on its search bound, or Gamma-Gamma q <= 1 (infinite mean spend).
    A customer whose model scores are not finite also falls back, counted in a warning. ``clv_method``
    says which was used per customer; ``clv_tier`` follows ``clv_tiers(clv, high_share, medium_share)``.
    ``fitted`` (from ``fit_clv_models``, e.g. stored and read back) skips fitting and scores with its usable
    parameters.
    """
    started = perf_counter()
    if horizon_months < 0 or int(horizon_months) != horizon_months:
        raise ValueError("horizon_months must be a non-negative integer")
    if not monthly_discount_rate > -1.0:
        raise ValueError("monthly_discount_rate must be greater than -1")
    horizon_months = int(horizon_months)
    frame = _summary_frame(summary)
    frequency, recency, t = (_numeric_column(frame, c) for c in ("frequency", "recency", "t"))
    monetary = _numeric_column(frame, "monetary")
    _validate_summary(frame, frequency, recency, t)
    _check_as_of(frame, as_of_date)
    warnings: list[str] = []
    timings: dict[str, float] = {}

    if "historical_revenue" in frame.columns:
        revenue = _numeric_column(frame, "historical_revenue")
        if np.isnan(revenue).any():
            warnings.append(f"{int(np.isnan(revenue).sum())} customer(s) have no historical_revenue: counted as 0")
    else:
        revenue = np.where(np.isfinite(monetary), monetary, 0.0) * (frequency + 1.0)
        warnings.append("no historical_revenue column: the fallback uses monetary x (frequency + 1)")

    n_customers = frequency.size
    if fitted is None:
        fitted = fit_clv_models(frame, min_customers, min_repeat_customers)
    fits, bgnbd, gamma_gamma = fitted.fits, fitted.bgnbd, fitted.gamma_gamma
    warnings.extend(fitted.warnings)
    timings.update({f"fit_{fit.model}": fit.seconds for fit in fits})

    predicting = perf_counter()
    scores = historical_scores(frequency, t, revenue, horizon_months, monthly_discount_rate, historical_min_tenure_days)
    method = np.full(n_customers, METHOD_HISTORICAL, dtype=object)
    use_model = bgnbd is not None and gamma_gamma is not None
    if use_model:
        modelled = model_scores(
            bgnbd, gamma_gamma, frequency, recency, t, monetary, horizon_months, monthly_discount_rate
        )
        finite = np.logical_and.reduce([np.isfinite(v) for v in modelled.values()])
        if not finite.all():
            warnings.append(f"{int((~finite).sum())} customer(s) had non-finite model scores: historical used")
        for name, values in modelled.items():
            scores[name] = np.where(finite, values, scores[name])
        method[finite] = METHOD_MODEL
    elif n_customers:
        warnings.append(f"CLV uses the historical estimate for all {n_customers} customers")
    timings["predict"] = perf_counter() - predicting

    table = pd.DataFrame(
        {
            "customer_key": frame["customer_key"].to_numpy(),
            "frequency": _whole_if_integral(frequency),
            "recency": _whole_if_integral(recency),
            "t": _whole_if_integral(t),
            "monetary": np.where(np.isfinite(monetary), monetary, 0.0),
            **{name: scores[name] for name in SCORE_COLUMNS if name in scores},
        }
    )
    table["clv_tier"] = clv_tiers(table["clv"].to_numpy(), high_share, medium_share)
    table["clv_method"] = method
    table = table[list(SCORE_COLUMNS)].astype({"clv_tier": "str", "clv_method": "str"})
    fits_frame = pd.DataFrame([row for fit in fits for row in fit.rows()], columns=list(FIT_COLUMNS))
    timings["total"] = perf_counter() - started
    return ClvResult(
        scores=table,
        fits=fits_frame,
        warnings=warnings,
        timings=timings,
        as_of_date=as_of_date,
        horizon_months=horizon_months,
        monthly_discount_rate=float(monthly_discount_rate),
        method=METHOD_MODEL if use_model else METHOD_HISTORICAL,
    )


# ---------------------------------------------------------------------------------------------------------
# simulation


def simulate_bgnbd_customers(
    n: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    T,
    seed: int,
    *,
    holdout_days: float = 0.0,
    whole_days: bool = False,
) -> SimulatedCustomers:
    """Draw n customers from the BG/NBD (time in days), first purchase at 0, observed until T.

    lambda ~ Gamma(r, rate alpha), p ~ Beta(a, b); the customer dies right after repeat purchase D ~
    Geometric(p). x = min(D, N(T)) with N(T) ~ Poisson(lambda T); t_x is the x-th of N(T) uniform arrival
    times (a Beta order statistic). ``holdout_purchases`` counts purchases in (T, T + holdout_days].
    ``whole_days`` floors t_x to whole days, like the warehouse summary (slightly off-model).
    """
    rng = np.random.default_rng(seed)
    T = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    rate = rng.gamma(r, 1.0 / alpha, n)
    dropout = np.clip(rng.beta(a, b, n), 1e-12, 1.0)
    lifetime_repeats = rng.geometric(dropout)
    calibration_count = rng.poisson(rate * T)
    x = np.minimum(lifetime_repeats, calibration_count)
    t_x = np.zeros(n)
    repeat = x > 0
    t_x[repeat] = T[repeat] * rng.beta(x[repeat], calibration_count[repeat] - x[repeat] + 1)
    if whole_days:
        t_x = np.floor(t_x)
    alive = lifetime_repeats > calibration_count
    holdout_count = rng.poisson(rate * holdout_days)
    holdout = np.where(alive, np.minimum(lifetime_repeats - calibration_count, holdout_count), 0)
    return SimulatedCustomers(x=x.astype(float), t_x=t_x, T=T, holdout_purchases=holdout, alive_at_T=alive)


def simulate_gamma_gamma_spend(x, p: float, q: float, v: float, seed: int) -> np.ndarray:
    """Mean spend over x purchases per customer: nu ~ Gamma(q, rate v), each purchase ~ Gamma(p, rate nu),
    so the mean is Gamma(p x, rate nu x). 0 where x == 0."""
    rng = np.random.default_rng(seed)
    x = np.asarray(x, dtype=float)
    nu = rng.gamma(q, 1.0 / v, x.shape)
    spend = np.zeros(x.shape)
    repeat = x > 0
    spend[repeat] = rng.gamma(p * x[repeat], 1.0 / (nu[repeat] * x[repeat]))
    return spend
