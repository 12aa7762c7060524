"""Vectorised random draws and column-table helpers shared by the simulation steps.

A table is a dict of equally long numpy columns (one row per record); no step loops over rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DAY_SECONDS = 86_400
HOUR = 3_600
CHINA_OFFSET = 8 * HOUR  # the simulated timeline is China Standard Time (UTC+8)

Table = dict[str, np.ndarray]


def weighted(rng: np.random.Generator, weights: Sequence[float], n: int) -> np.ndarray:
    """`n` indices drawn with the given (unnormalised) weights."""
    cumulative = np.cumsum(np.asarray(weights, dtype=float))
    return np.searchsorted(cumulative / cumulative[-1], rng.random(n), side="right").clip(0, len(weights) - 1)


def weighted_rows(rng: np.random.Generator, weights: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One column index per entry of `rows`, drawn with that row of `weights` (a matrix of unnormalised weights).

    Rows are laid end to end on one axis (row r covers [r, r + 1)), so a single search draws them all.
    """
    cumulative = np.cumsum(weights, axis=1)
    keys = (np.arange(weights.shape[0])[:, None] + cumulative / cumulative[:, -1:]).ravel()
    picked = np.searchsorted(keys, rows + rng.random(rows.size), side="right")
    return np.minimum(picked - rows * weights.shape[1], weights.shape[1] - 1)


def uniform_between(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Integers uniform on [low, high] per row."""
    return low + (rng.random(low.size) * (high - low + 1)).astype(np.int64)


def segment_starts(counts: np.ndarray) -> np.ndarray:
    """Where each segment of `counts` consecutive rows starts."""
    return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)


def end_of_day(seconds: np.ndarray) -> np.ndarray:
    """The last second of the day of each time, in China time and in UTC, whichever comes first.

    A record's first version stays on the day it was made in every export's time zone, so a run as of that
    day sees the record and its first version together.
    """
    china = (seconds // DAY_SECONDS + 1) * DAY_SECONDS - 1
    utc = ((seconds - CHINA_OFFSET) // DAY_SECONDS + 1) * DAY_SECONDS - 1 + CHINA_OFFSET
    return np.minimum(china, utc)


def take(table: Table, rows: np.ndarray) -> Table:
    return {key: values[rows] for key, values in table.items()}


def size(table: Table) -> int:
    return next(iter(table.values())).size


def concat(tables: Sequence[Table]) -> Table:
    return {key: np.concatenate([t[key] for t in tables]) for key in tables[0]}
