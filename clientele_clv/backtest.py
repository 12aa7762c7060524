"""Backtest: calibrate as of an earlier date, predict the holdout window, compare with what happened.

Metrics (pure functions over numpy arrays; "churned" = no purchase in the holdout window):

- ``churn_auc``: P(a random churner gets a higher churn probability than a random buyer), ties counting
  one half (the Mann-Whitney U statistic over n_churned x n_bought); NaN when either group is empty.
- ``brier_score``: mean squared difference between the churn probability and the 0/1 outcome.
- ``bernoulli_log_likelihood``: sum of log P(observed outcome), probabilities clipped to
  [PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR] so that one probability rounded to exactly 0 or 1 cannot make
  the total -inf.
- ``decile_table``: customers grouped by their churn probability (tied values stay together, in the group
  where their block starts), the mean predicted probability beside the observed no-purchase share.
- ``aggregate_relative_error`` (sum predicted / sum actual purchase days - 1), ``mean_absolute_error`` and
  ``pearson_correlation`` of predicted vs actual purchase days per customer.

Model selection (``select_purchase_model``), between the purchase models with a usable fit and a finite
holdout log-likelihood: a model better on both the holdout log-likelihood and the churn AUC wins; if they
split, the one with the higher holdout log-likelihood wins, because the log-likelihood is a proper scoring
rule (it rewards calibrated probabilities, the AUC only their order). Both cases amount to "the highest
holdout log-likelihood wins"; an exact tie on it goes to the higher AUC, and a tie on both to the model
listed first (the BG/NBD, the long-standing default). When the holdout has a single outcome class the AUC
is undefined for every model and the log-likelihood alone decides. No usable model: no choice (None).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from clientele_clv.arrays import float_arrays
from clientele_clv.fits import too_few_customers
from clientele_clv.fitting import ModelFit
from clientele_clv.purchase_models import PURCHASE_MODELS, churn_probability, expected_purchases, fit_purchase_model

PROBABILITY_FLOOR = 1e-12
N_GROUPS = 10
DECILE_COLUMNS = ("decile", "n_customers", "mean_predicted", "observed_share", "min_predicted", "max_predicted")


def _probabilities_and_outcomes(probability, outcome) -> tuple[np.ndarray, np.ndarray]:
    probability, outcome = float_arrays(probability, outcome)
    if not np.all((outcome == 0) | (outcome == 1)):
        raise ValueError("outcomes must be 0 or 1")
    if not np.all((probability >= 0) & (probability <= 1)):
        raise ValueError("probabilities must lie in [0, 1]")
    return probability, outcome


def churn_auc(probability, churned) -> float:
    """Area under the ROC curve of ``probability`` for ``churned`` (1) vs not (0), ties counting one half."""
    probability, churned = _probabilities_and_outcomes(probability, churned)
    n_churned = float(churned.sum())
    n_bought = churned.size - n_churned
    if n_churned == 0 or n_bought == 0:
        return math.nan
    ranks = rankdata(probability, method="average")
    u_statistic = float(ranks[churned == 1].sum()) - n_churned * (n_churned + 1) / 2
    return u_statistic / (n_churned * n_bought)


def brier_score(probability, outcome) -> float:
    """Mean of (probability - outcome)^2; NaN for no customers."""
    probability, outcome = _probabilities_and_outcomes(probability, outcome)
    return float(np.mean((probability - outcome) ** 2)) if probability.size else math.nan


def bernoulli_log_likelihood(probability, outcome) -> float:
    """Sum of log(p) where the outcome is 1 and log(1 - p) where it is 0, p clipped (module docstring)."""
    probability, outcome = _probabilities_and_outcomes(probability, outcome)
    clipped = np.clip(probability, PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)
    return float(np.sum(np.where(outcome == 1, np.log(clipped), np.log1p(-clipped))))


def decile_table(probability, outcome, n_groups: int = N_GROUPS) -> pd.DataFrame:
    """Predicted vs observed share per group of predicted probability (DECILE_COLUMNS, groups 1..n_groups
    from the lowest probabilities up; empty groups omitted). A customer whose tie block of equal
    probabilities starts at 0-based position i of the ascending order is in group floor(i n_groups / n) + 1."""
    probability, outcome = _probabilities_and_outcomes(probability, outcome)
    n = probability.size
    if n == 0:
        return pd.DataFrame(columns=list(DECILE_COLUMNS))
    block_start = rankdata(probability, method="min") - 1
    group = np.minimum(block_start * n_groups // n, n_groups - 1).astype(int) + 1
    frame = pd.DataFrame({"decile": group, "predicted": probability, "observed": outcome})
    table = frame.groupby("decile").agg(
        n_customers=("predicted", "size"),
        mean_predicted=("predicted", "mean"),
        observed_share=("observed", "mean"),
        min_predicted=("predicted", "min"),
        max_predicted=("predicted", "max"),
    )
    return table.reset_index()[list(DECILE_COLUMNS)]


def aggregate_relative_error(predicted, actual) -> float:
    """sum(predicted) / sum(actual) - 1; NaN when nothing actually happened."""
    predicted, actual = float_arrays(predicted, actual)
    total = float(actual.sum())
    return float(predicted.sum()) / total - 1.0 if total > 0 else math.nan


def mean_absolute_error(predicted, actual) -> float:
    predicted, actual = float_arrays(predicted, actual)
    return float(np.mean(np.abs(predicted - actual))) if predicted.size else math.nan


def pearson_correlation(predicted, actual) -> float:
    """Pearson correlation; NaN when either side is constant (or there are fewer than two customers)."""
    predicted, actual = float_arrays(predicted, actual)
    if predicted.size < 2:
        return math.nan
    centred_predicted, centred_actual = predicted - predicted.mean(), actual - actual.mean()
    scale = math.sqrt(float(np.sum(centred_predicted**2)) * float(np.sum(centred_actual**2)))
    return float(np.sum(centred_predicted * centred_actual)) / scale if scale > 0 else math.nan


@dataclass(frozen=True)
class BacktestMetrics:
    """How one model's predictions for the holdout window compare with what happened."""

    n_customers: int
    churn_auc: float
    brier_score: float
    log_likelihood: float  # Bernoulli, of the no-purchase outcome, summed over customers
    predicted_no_purchase_share: float
    observed_no_purchase_share: float
    predicted_purchase_days: float
    actual_purchase_days: float
    aggregate_relative_error: float
    mean_absolute_error: float
    correlation: float
    deciles: pd.DataFrame

    def values(self) -> dict[str, float]:
        """The scalar metrics by name."""
        return {name: float(getattr(self, name)) for name in SCALAR_METRICS}


SCALAR_METRICS = (
    "n_customers",
    "churn_auc",
    "brier_score",
    "log_likelihood",
    "predicted_no_purchase_share",
    "observed_no_purchase_share",
    "predicted_purchase_days",
    "actual_purchase_days",
    "aggregate_relative_error",
    "mean_absolute_error",
    "correlation",
)


def evaluate_backtest(probability_no_purchase, expected_purchase_days, actual_purchase_days) -> BacktestMetrics:
    """Every metric for one model: its P(no purchase in the window) and E[purchase days in the window] per
    customer against the purchase days that happened in the window."""
    probability, expected, actual = float_arrays(probability_no_purchase, expected_purchase_days, actual_purchase_days)
    if np.any(actual < 0):
        raise ValueError("actual purchase days cannot be negative")
    churned = (actual == 0).astype(float)
    return BacktestMetrics(
        n_customers=int(actual.size),
        churn_auc=churn_auc(probability, churned),
        brier_score=brier_score(probability, churned),
        log_likelihood=bernoulli_log_likelihood(probability, churned),
        predicted_no_purchase_share=float(probability.mean()) if actual.size else math.nan,
        observed_no_purchase_share=float(churned.mean()) if actual.size else math.nan,
        predicted_purchase_days=float(expected.sum()),
        actual_purchase_days=float(actual.sum()),
        aggregate_relative_error=aggregate_relative_error(expected, actual),
        mean_absolute_error=mean_absolute_error(expected, actual),
        correlation=pearson_correlation(expected, actual),
        deciles=decile_table(probability, churned),
    )


def select_purchase_model(candidates: Mapping[str, BacktestMetrics | None]) -> tuple[str | None, str]:
    """The winning model and why, by the rule in the module docstring. ``candidates`` maps each model, in
    order of preference on a complete tie, to its metrics (None when its fit was not usable)."""
    eligible = {
        name: metrics
        for name, metrics in candidates.items()
        if metrics is not None and math.isfinite(metrics.log_likelihood)
    }
    if not eligible:
        return None, "no purchase model has a usable fit and a finite holdout log-likelihood"
    if len(eligible) == 1:
        (name,) = eligible
        return name, f"{name} is the only purchase model with a usable fit"
    order = {name: position for position, name in enumerate(candidates)}

    def auc(metrics: BacktestMetrics) -> float:
        return metrics.churn_auc if math.isfinite(metrics.churn_auc) else -math.inf

    ranked = sorted(eligible, key=lambda name: (-eligible[name].log_likelihood, -auc(eligible[name]), order[name]))
    winner, runner_up = ranked[0], ranked[1]
    best, second = eligible[winner], eligible[runner_up]
    figures = (
        f"holdout log-likelihood {best.log_likelihood:.6g} vs {second.log_likelihood:.6g}, "
        f"churn AUC {best.churn_auc:.4f} vs {second.churn_auc:.4f}"
    )
    if best.log_likelihood == second.log_likelihood and auc(best) == auc(second):
        return winner, f"{winner} and {runner_up} tie on both ({figures}): {winner} is listed first"
    if best.log_likelihood == second.log_likelihood:
        return winner, f"{winner} ties {runner_up} on the log-likelihood and has the higher AUC ({figures})"
    if auc(best) >= auc(second):
        return winner, f"{winner} is better than {runner_up} on the log-likelihood and not worse on AUC ({figures})"
    return winner, (
        f"{winner} and {runner_up} split: {winner} has the higher holdout log-likelihood (a proper scoring rule), "
        f"{runner_up} the higher AUC ({figures})"
    )


@dataclass(frozen=True)
class ModelBacktest:
    """One purchase model in a backtest: its calibration fit and, when usable, its holdout metrics."""

    model: str
    fit: ModelFit | None
    message: str
    metrics: BacktestMetrics | None


@dataclass(frozen=True)
class BacktestReport:
    """Every purchase model's backtest and the choice between them."""

    horizon_days: float
    models: dict[str, ModelBacktest]
    chosen: str | None
    reason: str

    def metrics_frame(self) -> pd.DataFrame:
        """One row per model and metric (model, metric, value), the calibration log-likelihood included."""
        rows = []
        for name, backtest in self.models.items():
            if backtest.fit is not None:
                rows.append(
                    {"model": name, "metric": "calibration_log_likelihood", "value": backtest.fit.log_likelihood}
                )
            if backtest.metrics is not None:
                rows += [{"model": name, "metric": k, "value": v} for k, v in backtest.metrics.values().items()]
        return pd.DataFrame(rows, columns=["model", "metric", "value"])

    def deciles_frame(self) -> pd.DataFrame:
        """The decile tables of every evaluated model, with a model column first."""
        frames = [
            backtest.metrics.deciles.assign(model=name)
            for name, backtest in self.models.items()
            if backtest.metrics is not None
        ]
        columns = ["model", *DECILE_COLUMNS]
        return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def backtest_purchase_models(
    frequency,
    recency,
    t,
    holdout_purchase_days,
    horizon_days: float,
    *,
    models=tuple(PURCHASE_MODELS),
    min_customers: int = 50,
    min_repeat_customers: int = 20,
) -> BacktestReport:
    """Fit each of ``models`` on the calibration summary (frequency, recency, t as of the calibration date),
    predict the next ``horizon_days`` (churn probability and expected purchase days), compare with
    ``holdout_purchase_days`` (distinct purchase days in that window per customer) and choose a model."""
    frequency, recency, t, actual = float_arrays(frequency, recency, t, holdout_purchase_days)
    refusal = too_few_customers(frequency.size, int((frequency > 0).sum()), min_customers, min_repeat_customers)
    results: dict[str, ModelBacktest] = {}
    for model in models:
        if refusal is not None:
            results[model] = ModelBacktest(model, None, refusal, None)
            continue
        try:
            fit = fit_purchase_model(model, frequency, recency, t)
        except (ArithmeticError, ValueError, np.linalg.LinAlgError) as exc:
            results[model] = ModelBacktest(model, None, f"fit raised {type(exc).__name__}: {exc}", None)
            continue
        if not fit.converged:
            results[model] = ModelBacktest(model, fit, fit.message, None)
            continue
        metrics = evaluate_backtest(
            churn_probability(model, fit.params, frequency, recency, t, horizon_days),
            expected_purchases(model, fit.params, horizon_days, frequency, recency, t),
            actual,
        )
        results[model] = ModelBacktest(model, fit, fit.message, metrics)
    chosen, reason = select_purchase_model({name: backtest.metrics for name, backtest in results.items()})
    return BacktestReport(horizon_days=float(horizon_days), models=results, chosen=chosen, reason=reason)
