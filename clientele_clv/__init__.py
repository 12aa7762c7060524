"""Customer lifetime value and churn: BG/NBD or MBG/NBD purchase counts x Gamma-Gamma spend, a historical
fallback, and a backtest that chooses between the purchase models. numpy/scipy/pandas/pyarrow only; the dbt
Python models import it directly.

Time unit: the day. Per customer (``summary``): frequency x = purchase days after the first, recency t_x =
days from the first to the last purchase day, T = days from the first purchase day to the as-of date,
monetary m = mean value of the repeat purchase days.

Models (all likelihoods in log space, fitted on the distinct (x, t_x, T) rows weighted by their counts):

- BG/NBD (Fader, Hardie & Lee 2005, ``bg_nbd``): while alive a customer buys as a Poisson process at rate
  lambda ~ Gamma(r, alpha); right after each *repeat* purchase they leave for good with probability
  p ~ Beta(a, b). A customer with no repeat purchase has had no chance to leave: P(alive) = 1.
- MBG/NBD (Batislam, Denizel & Filiztekin 2007, ``mbg_nbd``): the same, except that the first purchase is a
  dropout opportunity too, so a one-time buyer may already be gone and becomes less likely alive as they age.
- Gamma-Gamma (``gamma_gamma``): each purchase's value is Gamma(p, nu) with nu ~ Gamma(q, v), independent of
  the purchase process.

Churn. ``churn_probability`` = P(X(h) = 0 | x, t_x, T), the fitted model's probability of no purchase in the
next h days, in closed form: 1 - P(alive) + P(alive) ((alpha+T)/(alpha+T+h))^(r+x). An alive customer can only
leave at a purchase, so they make none in the window exactly when their Poisson process is silent there, whose
probability under the posterior rate Gamma(r+x, alpha+T) is the second factor (derivation in
``beta_geometric``). 1 - P(alive) cannot rank BG/NBD one-time buyers at all: it is 0 for each of them, which
also ranks every one of them as safer than any repeat buyer, although one-time buyers are the likeliest to
stay away (on a real retail log that gave an AUC below 0.5). P(X(h) = 0) still ranks them: a one-time buyer
silent for two years has a low posterior rate and is very likely to stay silent, one who bought last week is
not. It is also what a churn warning means in practice (no purchase in the next h days), so it can be checked
against a holdout window (``backtest``). Without a usable purchase model, scoring falls back to the
historical purchase rate for churn too: exp(-rate h), a Poisson buyer who never leaves (``scoring``).

Modules: ``bg_nbd``, ``mbg_nbd``, ``gamma_gamma`` (the models), ``beta_geometric`` (what BG and MBG share),
``quadrature`` (E[purchases | alive]), ``fitting`` (optimiser and usability verdict), ``purchase_models``
(models by name), ``summary`` (input contract), ``fits`` (fitting a summary), ``scoring`` (scores, tiers,
discounting, historical fallback), ``backtest`` (holdout metrics and model selection), ``arrays``.
"""

from clientele_clv.backtest import (
    BacktestMetrics,
    BacktestReport,
    ModelBacktest,
    aggregate_relative_error,
    backtest_purchase_models,
    bernoulli_log_likelihood,
    brier_score,
    churn_auc,
    decile_table,
    evaluate_backtest,
    mean_absolute_error,
    pearson_correlation,
    select_purchase_model,
)
from clientele_clv.bg_nbd import (
    BgNbdParams,
    bgnbd_customer_log_likelihood,
    bgnbd_expected_purchases,
    bgnbd_log_likelihood,
    bgnbd_p_alive,
    bgnbd_probability_no_purchase,
    fit_bgnbd,
)
from clientele_clv.fits import FIT_COLUMNS, FIT_EXTRA_COLUMNS, ClvFits, fit_clv_models
from clientele_clv.fitting import ModelFit
from clientele_clv.gamma_gamma import (
    GammaGammaParams,
    fit_gamma_gamma,
    gamma_gamma_customer_log_likelihood,
    gamma_gamma_expected_spend,
    gamma_gamma_log_likelihood,
)
from clientele_clv.mbg_nbd import (
    MbgNbdParams,
    fit_mbgnbd,
    mbgnbd_customer_log_likelihood,
    mbgnbd_expected_purchases,
    mbgnbd_log_likelihood,
    mbgnbd_p_alive,
    mbgnbd_probability_no_purchase,
)
from clientele_clv.purchase_models import (
    BG_NBD,
    MBG_NBD,
    PURCHASE_MODELS,
    churn_probability,
    expected_purchases,
    fit_purchase_model,
    p_alive,
)
from clientele_clv.scoring import (
    CHURN_COLUMNS,
    DAYS_PER_MONTH,
    EXPECTED_PURCHASE_WINDOWS_DAYS,
    METHOD_HISTORICAL,
    METHOD_MODEL,
    SCORE_COLUMNS,
    ClvResult,
    clv_tiers,
    historical_churn_probability,
    historical_scores,
    model_scores,
    monthly_discount_factors,
    score_customers,
)
from clientele_clv.summary import SUMMARY_COLUMNS

__all__ = [
    "BG_NBD",
    "CHURN_COLUMNS",
    "DAYS_PER_MONTH",
    "EXPECTED_PURCHASE_WINDOWS_DAYS",
    "FIT_COLUMNS",
    "FIT_EXTRA_COLUMNS",
    "MBG_NBD",
    "METHOD_HISTORICAL",
    "METHOD_MODEL",
    "PURCHASE_MODELS",
    "SCORE_COLUMNS",
    "SUMMARY_COLUMNS",
    "BacktestMetrics",
    "BacktestReport",
    "BgNbdParams",
    "ClvFits",
    "ClvResult",
    "GammaGammaParams",
    "MbgNbdParams",
    "ModelBacktest",
    "ModelFit",
    "aggregate_relative_error",
    "backtest_purchase_models",
    "bernoulli_log_likelihood",
    "bgnbd_customer_log_likelihood",
    "bgnbd_expected_purchases",
    "bgnbd_log_likelihood",
    "bgnbd_p_alive",
    "bgnbd_probability_no_purchase",
    "brier_score",
    "churn_auc",
    "churn_probability",
    "clv_tiers",
    "decile_table",
    "evaluate_backtest",
    "expected_purchases",
    "fit_bgnbd",
    "fit_clv_models",
    "fit_gamma_gamma",
    "fit_mbgnbd",
    "fit_purchase_model",
    "gamma_gamma_customer_log_likelihood",
    "gamma_gamma_expected_spend",
    "gamma_gamma_log_likelihood",
    "historical_churn_probability",
    "historical_scores",
    "mbgnbd_customer_log_likelihood",
    "mbgnbd_expected_purchases",
    "mbgnbd_log_likelihood",
    "mbgnbd_p_alive",
    "mbgnbd_probability_no_purchase",
    "mean_absolute_error",
    "model_scores",
    "monthly_discount_factors",
    "p_alive",
    "pearson_correlation",
    "score_customers",
    "select_purchase_model",
]
