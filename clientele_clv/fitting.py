"""Maximum-likelihood fitting shared by every model: L-BFGS-B on log-parameters, then an honest verdict.

A fit is usable only when the data identify the model: enough distinct inputs, a finite likelihood, no
parameter on its search bound, a converged optimiser, and a likelihood curved in every direction (finite,
moderate standard errors from the observed information).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from time import perf_counter
from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize

# Optimisation happens on log-parameters inside these bounds (time and money rescaled to O(1) first);
# an estimate ending on a bound means the data do not identify the model (e.g. no heterogeneity).
PARAMETER_LOWER_BOUND = 1e-6
PARAMETER_UPPER_BOUND = 1e6
BOUND_TOLERANCE_LOG = 1e-3
# L-BFGS-B may stop with "abnormal termination in line search" at an optimum that rounding error keeps
# it from improving; such a fit counts as converged when its projected gradient is below this.
ACCEPTED_GRADIENT_NORM = 1e-5
# A log-parameter whose standard error (inverse observed information) exceeds this, or a likelihood that is
# not curved in every direction, means a flat likelihood: the data do not identify that parameter.
MAX_LOG_PARAMETER_STD_ERROR = 10.0
HESSIAN_STEP_LOG = 1e-4

# (theta) -> (mean negative log-likelihood, its gradient in theta), theta = log-parameters
Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass(frozen=True)
class ModelFit:
    """One maximum-likelihood fit. ``log_likelihood`` is in original units (days, currency)."""

    model: str
    params: NamedTuple
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


class OptimiserResult(NamedTuple):
    theta: np.ndarray
    at_bound: np.ndarray
    converged: bool
    message: str
    iterations: int


def minimise(objective: Objective, start: np.ndarray, max_iterations: int) -> OptimiserResult:
    """L-BFGS-B on the log-parameters within the search bounds."""
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
    return OptimiserResult(
        theta=result.x,
        at_bound=at_bound,
        converged=bool(result.success) or small_gradient,
        message=str(result.message),
        iterations=int(result.nit),
    )


def log_std_errors(objective: Objective, theta: np.ndarray, n_customers: float) -> np.ndarray:
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


def assess_fit(
    objective: Objective,
    result: OptimiserResult,
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
    if result.at_bound.any():
        hit = ", ".join(n for n, b in zip(names, result.at_bound, strict=True) if b)
        return False, f"parameter(s) {hit} ended on the search bound: the data do not identify the model", std_errors
    if not result.converged:
        return False, f"optimiser did not converge: {result.message}", std_errors
    std_errors = log_std_errors(objective, result.theta, float(counts.sum()))
    flat = ~(std_errors <= MAX_LOG_PARAMETER_STD_ERROR)
    if flat.any():
        hit = ", ".join(n for n, f in zip(names, flat, strict=True) if f)
        return False, f"the likelihood is flat in parameter(s) {hit}: the data do not identify the model", std_errors
    return True, "converged", std_errors


def maximise_likelihood(
    model: str,
    objective: Objective,
    start: np.ndarray,
    to_params: Callable[[np.ndarray], NamedTuple],
    log_likelihood: Callable[[NamedTuple], float],
    counts: np.ndarray,
    min_distinct: int,
    max_iterations: int,
    started: float,
) -> ModelFit:
    """Minimise ``objective`` from ``start``, map the optimum to parameters in original units with
    ``to_params`` and assess it. ``log_likelihood(params)`` is the total in original units; ``started`` is
    the perf_counter() reading when the caller began (so the fit's seconds include its preparation)."""
    result = minimise(objective, start, max_iterations)
    params = to_params(result.theta)
    total = log_likelihood(params)
    converged, message, std_errors = assess_fit(objective, result, params._fields, total, counts, min_distinct)
    return ModelFit(
        model=model,
        params=params,
        log_likelihood=total,
        n_customers=float(counts.sum()),
        n_distinct=int(counts.size),
        converged=converged,
        message=message,
        iterations=result.iterations,
        seconds=perf_counter() - started,
        log_std_errors=tuple(float(e) for e in std_errors),
    )
