"""E[purchases in (T, T+t] | alive at T] for the beta-geometric dropout models, by Gauss-Jacobi quadrature.

Given alive at T, the posterior of the purchase rate is lambda ~ Gamma(r+x, alpha+T) and that of the dropout
probability p ~ Beta(a, b'), b' = b+x (BG/NBD) or b+x+1 (MBG/NBD). An alive customer buys at rate lambda
until dropping out after a purchase (probability p each), so E[purchases in t | lambda, p] = (1 - e^(-lambda p
t))/p and, integrating lambda out, E[purchases in t | alive] = E_p[(1 - (1 + p k)^-(r+x)) / p] with k =
t/(alpha+T).

By Euler's integral of the 2F1 this equals the papers' (a+b'-1)/(a-1) [1 - (1-z)^(r+x) 2F1(r+x, b'; a+b'-1;
z)], z = t/(alpha+T+t) (FHL 2005 eq. 10; Batislam et al. 2007 with b' = b+x+1). That form cancels
catastrophically for small k (huge T), is 0/0 at a = 1 and hits poles of the 2F1 when a+b'-1 is a
non-positive integer; the expectation over p is a bounded smooth integrand valid for every a > 0.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import eigh_tridiagonal
from scipy.special import betaln

# Gauss-Jacobi rules for E_p[...], chosen by k = t/(alpha+T). In p the integrand has a branch point at
# p = -1/k, so a rule in p needs more nodes as k grows: (upper bound of k, nodes). Beyond the last bound
# the substitution p = ((1+k)^u - 1)/k moves that point away; that rule needs more nodes as b' grows
# (the factor (1-p)^(b'-1) stays in the integrand). Checked against adaptive quadrature to 1e-10.
P_RULES = ((2.0, 16), (5.0, 32), (10.0, 64))
LOG_RULE_NODES_PER_SQRT_B = 10.0
LOG_RULE_MIN_NODES, LOG_RULE_MAX_NODES = 32, 512
QUADRATURE_CHUNK_ELEMENTS = 1 << 21


def jacobi_beta_rules(a: float, b_values: np.ndarray, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
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


def purchases_if_alive(
    r: float, alpha: float, a: float, b_offset: float, t: np.ndarray, x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """E[purchases in (T, T+t] | alive at T, x, T] = E_p[(1 - (1 + p k)^-(r+x)) / p], p ~ Beta(a, b_offset+x).

    ``b_offset`` is b for the BG/NBD and b+1 for the MBG/NBD. Gauss-Jacobi quadrature with the Beta weight
    built in (see P_RULES). Elementwise over equally long 1-D arrays.
    """
    k = t / (alpha + T)
    shape_lambda = r + x
    result = np.zeros_like(k)
    x_values, x_index = np.unique(x, return_inverse=True)
    use_log, n_nodes = _quadrature_nodes(k, b_offset + x)
    for substitution in (False, True):
        for n in np.unique(n_nodes[(use_log == substitution) & (k > 0)]):
            chosen = np.flatnonzero((use_log == substitution) & (n_nodes == n) & (k > 0))
            _integrate_if_alive(a, b_offset, k, shape_lambda, x_values, x_index, chosen, int(n), substitution, result)
    return result


def _integrate_if_alive(a, b_offset, k, shape_lambda, x_values, x_index, chosen, n_nodes, log_substitution, result):
    """Fill result[chosen] with one Gauss rule; node sets per distinct x (i.e. per Beta(a, b_offset+x))."""
    groups, group_of_chosen = np.unique(x_index[chosen], return_inverse=True)
    b_prime = b_offset + x_values[groups]
    if log_substitution:
        extra, integer_part = _log_rule_split(b_prime)
        nodes, weights = jacobi_beta_rules(a, extra + 1.0, n_nodes)
        log_norm = betaln(a, extra + 1.0) - betaln(a, b_prime)
    else:
        nodes, weights = jacobi_beta_rules(a, b_prime, n_nodes)
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
