"""Array plumbing shared by the models: flat float columns, distinct rows with counts, BLAS-free sums."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def float_arrays(*values) -> list[np.ndarray]:
    """The values broadcast against each other, as contiguous 1-D float arrays."""
    arrays = np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in values])
    return [np.ascontiguousarray(a).ravel() for a in arrays]


def distinct_rows(*columns) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Distinct rows of equally long 1-D columns: (distinct columns, inverse index, counts), sorted."""
    arrays = float_arrays(*columns)
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


def compress(columns: Sequence[np.ndarray], weights) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows and the summed weight of each (rows with zero weight dropped)."""
    distinct, inverse, counts = distinct_rows(*columns)
    if weights is None:
        summed = counts.astype(float)
    else:
        weights = np.broadcast_to(np.asarray(weights, dtype=float), inverse.shape)
        summed = np.bincount(inverse, weights=weights, minlength=counts.size)
    keep = summed > 0
    return [c[keep] for c in distinct], summed[keep]


def dot(left: np.ndarray, right: np.ndarray) -> float:
    """Inner product without BLAS (whose thread pool thrashes on a busy 2-core box)."""
    return float(np.einsum("i,i->", left, right))


def weighted_sum(terms: np.ndarray, weights=None) -> float:
    """Sum of per-row terms, each multiplied by its weight when weights are given."""
    if weights is None:
        return float(terms.sum())
    return dot(np.ascontiguousarray(np.broadcast_to(np.asarray(weights, dtype=float), terms.shape)), terms)


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    total = float(weights.sum())
    return dot(values, weights) / total if total > 0 else 0.0
