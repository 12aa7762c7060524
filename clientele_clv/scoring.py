"""Per-customer scores: P(alive), expected purchases, expected spend, discounted CLV, tier, and optionally
the churn probability, from the fitted models or, when they cannot be trusted, the historical estimate."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from time import perf_counter
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

from clientele_clv.arrays import distinct_rows
from clientele_clv.fits import FIT_COLUMNS, ClvFits, fit_summary_models
from clientele_clv.gamma_gamma import GammaGammaParams, gamma_gamma_expected_spend
from clientele_clv.purchase_models import (
    BG_NBD,
    churn_probability,
    expected_purchases_if_alive,
    model_spec,
    p_alive,
)
from clientele_clv.summary import check_as_of, numeric_column, purchase_columns, summary_frame, whole_if_integral

METHOD_MODEL = model_spec(BG_NBD).clv_method  # the default purchase model with Gamma-Gamma
METHOD_HISTORICAL = "historical"
DAYS_PER_MONTH = 365.25 / 12
EXPECTED_PURCHASE_WINDOWS_DAYS = (30, 90, 365)
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
# added to SCORE_COLUMNS when score_customers is given churn_horizon_days
CHURN_COLUMNS = ("churn_probability", "churn_method")


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
    method: str = field(default=METHOD_HISTORICAL)  # the purchase model's clv_method when the models were used
    churn_horizon_days: float | None = None


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


def historical_purchase_rate(frequency: np.ndarray, t: np.ndarray, min_tenure_days: float = 365.0) -> np.ndarray:
    """Purchase days per day over the tenure max(T, ``min_tenure_days``): (x + 1) / tenure."""
    return (frequency + 1.0) / np.maximum(t, min_tenure_days)


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
    rate = historical_purchase_rate(frequency, t, min_tenure_days)
    scores = {
        "p_alive": np.ones_like(t),
        "expected_avg_order_value": revenue / purchase_days,
        "clv": monthly_spend * monthly_discount_factors(horizon_months, monthly_discount_rate).sum(),
    }
    for days in EXPECTED_PURCHASE_WINDOWS_DAYS:
        scores[f"expected_purchases_{days}d"] = rate * days
    return scores


def historical_churn_probability(
    frequency: np.ndarray, t: np.ndarray, horizon_days: float, min_tenure_days: float = 365.0
) -> np.ndarray:
    """The fallback's churn probability: exp(-rate x horizon), the chance of no purchase in the horizon for a
    Poisson buyer at the historical rate (x+1)/max(T, ``min_tenure_days``) who never leaves.

    It is the same projection as the fallback's expected purchases and p_alive = 1, so it ranks customers
    by their past purchase rate only; ignoring dropout, it tends to understate churn.
    """
    return np.exp(-historical_purchase_rate(frequency, t, min_tenure_days) * horizon_days)


def model_scores(
    purchase_model: str,
    purchase_params: NamedTuple,
    gamma_gamma: GammaGammaParams,
    frequency: np.ndarray,
    recency: np.ndarray,
    t: np.ndarray,
    monetary: np.ndarray,
    horizon_months: int,
    monthly_discount_rate: float,
) -> dict[str, np.ndarray]:
    """Purchase model x Gamma-Gamma scores. CLV = sum over months m of E[purchases in month m] x E[spend per
    purchase] / (1+d)^m, months of 365.25/12 days; E[purchases] evaluated once per distinct (x, T)."""
    windows = np.array(
        [*EXPECTED_PURCHASE_WINDOWS_DAYS, *(DAYS_PER_MONTH * np.arange(1, horizon_months + 1))], dtype=float
    )
    (pair_x, pair_t), pair_of_customer, _ = distinct_rows(frequency, t)
    n_pairs, n_windows = pair_x.size, len(EXPECTED_PURCHASE_WINDOWS_DAYS)
    if_alive = expected_purchases_if_alive(
        purchase_model,
        purchase_params,
        np.tile(windows, n_pairs),
        np.repeat(pair_x, windows.size),
        np.repeat(pair_t, windows.size),
    ).reshape(n_pairs, windows.size)
    cumulative = np.concatenate([np.zeros((n_pairs, 1)), if_alive[:, n_windows:]], axis=1)
    per_month = np.maximum(np.diff(cumulative, axis=1), 0.0)
    discounted = np.einsum("ij,j->i", per_month, monthly_discount_factors(horizon_months, monthly_discount_rate))
    alive = p_alive(purchase_model, purchase_params, frequency, recency, t)
    spend = gamma_gamma_expected_spend(gamma_gamma, frequency, monetary)
    scores = {
        "p_alive": alive,
        "expected_avg_order_value": spend,
        "clv": alive * discounted[pair_of_customer] * spend,
    }
    for column, days in enumerate(EXPECTED_PURCHASE_WINDOWS_DAYS):
        scores[f"expected_purchases_{days}d"] = alive * if_alive[pair_of_customer, column]
    return scores


def _churn_scores(
    fitted: ClvFits,
    frequency: np.ndarray,
    recency: np.ndarray,
    t: np.ndarray,
    horizon_days: float,
    min_tenure_days: float,
    warnings: list[str],
) -> tuple[np.ndarray, np.ndarray]:
    """churn_probability and churn_method: the purchase model's whenever it is usable (spend plays no part),
    otherwise ``historical_churn_probability``."""
    probability = historical_churn_probability(frequency, t, horizon_days, min_tenure_days)
    method = np.full(frequency.size, METHOD_HISTORICAL, dtype=object)
    if fitted.purchase_params is None:
        return probability, method
    modelled = churn_probability(fitted.purchase_model, fitted.purchase_params, frequency, recency, t, horizon_days)
    finite = np.isfinite(modelled)
    if not finite.all():
        warnings.append(f"{int((~finite).sum())} customer(s) had a non-finite churn probability: historical used")
    method[finite] = fitted.purchase_model
    return np.where(finite, modelled, probability), method


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
    purchase_model: str = BG_NBD,
    churn_horizon_days: float | None = None,
) -> ClvResult:
    """Score every customer of the summary with the purchase model x Gamma-Gamma, or the historical fallback.

    ``summary`` columns: see ``clientele_clv.summary``; without ``historical_revenue`` the fallback's revenue
    is approximated as monetary x (frequency + 1). Other columns are ignored. Rows violating 0 <= recency <=
    t raise ValueError (a broken upstream contract).

    The models are used for everyone when both fits converge and identify their parameters; otherwise
    every customer gets the historical estimate (see ``historical_scores``) and ``warnings`` says why:
    fewer than ``min_customers`` customers or ``min_repeat_customers`` repeat buyers, too few distinct
    inputs, non-convergence, a parameter on its search bound, or Gamma-Gamma q <= 1 (infinite mean spend).
    A customer whose model scores are not finite also falls back, counted in a warning. ``clv_method``
    says which was used per customer; ``clv_tier`` follows ``clv_tiers(clv, high_share, medium_share)``.
    ``fitted`` (from ``fit_clv_models``, e.g. stored and read back) skips fitting and scores with its usable
    parameters; otherwise ``purchase_model`` (``bg_nbd`` or ``mbg_nbd``) is fitted with Gamma-Gamma.

    With ``churn_horizon_days`` the scores also hold CHURN_COLUMNS: ``churn_probability`` = P(no purchase in
    the next churn_horizon_days days | x, t_x, T) from the purchase model whenever that model is usable (even
    when Gamma-Gamma is not), else ``historical_churn_probability``; ``churn_method`` names the source
    (``bg_nbd``, ``mbg_nbd`` or ``historical``).
    """
    started = perf_counter()
    if horizon_months < 0 or int(horizon_months) != horizon_months:
        raise ValueError("horizon_months must be a non-negative integer")
    if not monthly_discount_rate > -1.0:
        raise ValueError("monthly_discount_rate must be greater than -1")
    if churn_horizon_days is not None and not (math.isfinite(churn_horizon_days) and churn_horizon_days >= 0):
        raise ValueError("churn_horizon_days must be a finite non-negative number of days")
    horizon_months = int(horizon_months)
    frame = summary_frame(summary)
    frequency, recency, t = purchase_columns(frame)
    monetary = numeric_column(frame, "monetary")
    check_as_of(frame, as_of_date)
    warnings: list[str] = []
    timings: dict[str, float] = {}

    if "historical_revenue" in frame.columns:
        revenue = numeric_column(frame, "historical_revenue")
        if np.isnan(revenue).any():
            warnings.append(f"{int(np.isnan(revenue).sum())} customer(s) have no historical_revenue: counted as 0")
    else:
        revenue = np.where(np.isfinite(monetary), monetary, 0.0) * (frequency + 1.0)
        warnings.append("no historical_revenue column: the fallback uses monetary x (frequency + 1)")

    n_customers = frequency.size
    if fitted is None:
        fitted = fit_summary_models(
            purchase_model, frequency, recency, t, monetary, min_customers, min_repeat_customers
        )
    fits = fitted.fits
    warnings.extend(fitted.warnings)
    timings.update({f"fit_{fit.model}": fit.seconds for fit in fits})

    predicting = perf_counter()
    scores = historical_scores(frequency, t, revenue, horizon_months, monthly_discount_rate, historical_min_tenure_days)
    method = np.full(n_customers, METHOD_HISTORICAL, dtype=object)
    use_model = fitted.purchase_params is not None and fitted.gamma_gamma is not None
    model_method = model_spec(fitted.purchase_model).clv_method
    if use_model:
        modelled = model_scores(
            fitted.purchase_model,
            fitted.purchase_params,
            fitted.gamma_gamma,
            frequency,
            recency,
            t,
            monetary,
            horizon_months,
            monthly_discount_rate,
        )
        finite = np.logical_and.reduce([np.isfinite(v) for v in modelled.values()])
        if not finite.all():
            warnings.append(f"{int((~finite).sum())} customer(s) had non-finite model scores: historical used")
        for name, values in modelled.items():
            scores[name] = np.where(finite, values, scores[name])
        method[finite] = model_method
    elif n_customers:
        warnings.append(f"CLV uses the historical estimate for all {n_customers} customers")
    columns = list(SCORE_COLUMNS)
    if churn_horizon_days is not None:
        scores["churn_probability"], scores["churn_method"] = _churn_scores(
            fitted, frequency, recency, t, float(churn_horizon_days), historical_min_tenure_days, warnings
        )
        columns += CHURN_COLUMNS
    timings["predict"] = perf_counter() - predicting

    table = pd.DataFrame(
        {
            "customer_key": frame["customer_key"].to_numpy(),
            "frequency": whole_if_integral(frequency),
            "recency": whole_if_integral(recency),
            "t": whole_if_integral(t),
            "monetary": np.where(np.isfinite(monetary), monetary, 0.0),
            **{name: scores[name] for name in columns if name in scores},
        }
    )
    table["clv_tier"] = clv_tiers(table["clv"].to_numpy(), high_share, medium_share)
    table["clv_method"] = method
    table = table[columns].astype(
        {name: "str" for name in ("clv_tier", "clv_method", "churn_method") if name in columns}
    )
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
        method=model_method if use_model else METHOD_HISTORICAL,
        churn_horizon_days=None if churn_horizon_days is None else float(churn_horizon_days),
    )
