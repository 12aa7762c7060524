"""Simulated customers for the CLV tests: BG/NBD or MBG/NBD purchase histories and Gamma-Gamma spend."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SimulatedCustomers:
    """Calibration summary of simulated customers plus what happened next (for validation)."""

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    holdout_purchases: np.ndarray
    alive_at_T: np.ndarray


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
    dropout_at_start: bool = False,
) -> SimulatedCustomers:
    """Draw n customers from the BG/NBD (time in days), first purchase at 0, observed until T.

    lambda ~ Gamma(r, rate alpha), p ~ Beta(a, b); the customer dies right after repeat purchase D ~
    Geometric(p) (support 1, 2, ...). With ``dropout_at_start`` (the MBG/NBD) the first purchase is a dropout
    opportunity too: D = Geometric(p) - 1, and D = 0 means gone right after the first purchase.
    x = min(D, N(T)) with N(T) ~ Poisson(lambda T); t_x is the x-th of N(T) uniform arrival times (a Beta
    order statistic). ``holdout_purchases`` counts purchases in (T, T + holdout_days]: the Poisson count
    there, capped by the purchases left before dying. ``whole_days`` floors t_x to whole days, like the
    warehouse summary (slightly off-model).
    """
    rng = np.random.default_rng(seed)
    T = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    rate = rng.gamma(r, 1.0 / alpha, n)
    dropout = np.clip(rng.beta(a, b, n), 1e-12, 1.0)
    lifetime_repeats = rng.geometric(dropout) - (1 if dropout_at_start else 0)
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


def simulate_mbgnbd_customers(n: int, r: float, alpha: float, a: float, b: float, T, seed: int, **options):
    """Draw n customers from the MBG/NBD: ``simulate_bgnbd_customers`` with the first purchase a dropout
    opportunity."""
    return simulate_bgnbd_customers(n, r, alpha, a, b, T, seed, dropout_at_start=True, **options)


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


@dataclass(frozen=True)
class SimulatedPurchaseLog:
    """Purchase times of simulated customers, in days from a common origin, beyond the as-of date too."""

    customer: np.ndarray  # customer index of each purchase
    time: np.ndarray  # time of each purchase in days (the first purchase of every customer included)
    first_day: np.ndarray  # per customer: day of the first purchase

    @property
    def day(self) -> np.ndarray:
        """The day of each purchase: two purchases on one day make one purchase day (slightly off-model)."""
        return np.floor(self.time).astype(int)


def simulate_purchase_log(
    n: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    first_day_range: tuple[int, int],
    end_day: int,
    seed: int,
    *,
    dropout_at_start: bool = False,
) -> SimulatedPurchaseLog:
    """Draw n BG/NBD customers (MBG/NBD with ``dropout_at_start``) as dated purchases up to ``end_day``.

    Each customer's first purchase is on a day uniform in ``first_day_range`` (inclusive); while alive they buy
    as a Poisson process at rate lambda ~ Gamma(r, rate alpha) per day and leave for good right after repeat
    purchase D ~ Geometric(p), p ~ Beta(a, b) (D - 1 with ``dropout_at_start``, 0 = gone after the first).
    The process is drawn through ``end_day``: given N ~ Poisson(lambda x span) arrivals, their times are
    uniform on the span; the customer makes the first min(D, N) of them.
    """
    rng = np.random.default_rng(seed)
    first_day = rng.integers(first_day_range[0], first_day_range[1] + 1, n)
    rate = rng.gamma(r, 1.0 / alpha, n)
    dropout = np.clip(rng.beta(a, b, n), 1e-12, 1.0)
    lifetime_repeats = rng.geometric(dropout) - (1 if dropout_at_start else 0)
    span = (end_day + 1 - first_day).astype(float)
    arrivals = rng.poisson(rate * span)
    owner = np.repeat(np.arange(n), arrivals)
    times = first_day[owner] + rng.random(owner.size) * span[owner]
    order = np.lexsort((times, owner))
    owner, times = owner[order], times[order]
    position = np.arange(owner.size) - np.repeat(np.cumsum(arrivals) - arrivals, arrivals)
    kept = position < lifetime_repeats[owner]
    customer = np.concatenate([np.arange(n), owner[kept]])
    time = np.concatenate([first_day.astype(float), times[kept]])
    return SimulatedPurchaseLog(customer=customer, time=time, first_day=first_day)
