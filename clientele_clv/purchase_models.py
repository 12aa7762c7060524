"""The purchase models by name (``bg_nbd``, ``mbg_nbd``): fitting and predictions behind one interface.

``churn_probability`` is P(no purchase in the next ``horizon_days`` | x, t_x, T) under the fitted model, in
closed form (derivation in ``beta_geometric``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from clientele_clv import beta_geometric, bg_nbd, mbg_nbd
from clientele_clv.fitting import ModelFit


@dataclass(frozen=True)
class PurchaseModel:
    name: str  # as stored in the fits table
    label: str  # as written in messages
    params_type: type[NamedTuple]
    dropout_at_start: bool  # whether the first purchase is a dropout opportunity
    clv_method: str  # clv_method of customers scored with this model and Gamma-Gamma


BG_NBD = bg_nbd.MODEL
MBG_NBD = mbg_nbd.MODEL
PURCHASE_MODELS = {
    BG_NBD: PurchaseModel(BG_NBD, "BG/NBD", bg_nbd.BgNbdParams, bg_nbd.DROPOUT_AT_START, "bg_nbd_gamma_gamma"),
    MBG_NBD: PurchaseModel(MBG_NBD, "MBG/NBD", mbg_nbd.MbgNbdParams, mbg_nbd.DROPOUT_AT_START, "mbg_nbd_gamma_gamma"),
}


def model_spec(name: str) -> PurchaseModel:
    """The model called ``name``; ValueError for an unknown name."""
    try:
        return PURCHASE_MODELS[name]
    except KeyError:
        raise ValueError(f"unknown purchase model {name!r}; expected one of {sorted(PURCHASE_MODELS)}") from None


def model_params(model: str, params) -> NamedTuple:
    """``params`` as the model's parameter tuple; a tuple typed for the other model is a mistake."""
    spec = model_spec(model)
    if isinstance(params, spec.params_type):
        return params
    if any(isinstance(params, other.params_type) for other in PURCHASE_MODELS.values()):
        raise TypeError(f"{type(params).__name__} given for the {spec.label}")
    return spec.params_type(*(float(v) for v in params))


def fit_purchase_model(model: str, x, t_x, T, weights=None, *, initial=None, max_iterations: int = 2000) -> ModelFit:
    """Maximum-likelihood fit of the named model on (x, t_x, T), optionally weighted per row."""
    spec = model_spec(model)
    return beta_geometric.fit(
        spec.name,
        spec.params_type,
        spec.dropout_at_start,
        x,
        t_x,
        T,
        weights,
        initial=initial,
        max_iterations=max_iterations,
    )


def customer_log_likelihood(model: str, params, x, t_x, T) -> np.ndarray:
    """Per-customer log-likelihood of (x, t_x, T) under the named model."""
    return beta_geometric.customer_log_likelihood(
        model_params(model, params), model_spec(model).dropout_at_start, x, t_x, T
    )


def p_alive(model: str, params, x, t_x, T) -> np.ndarray:
    """P(alive at T | x, t_x, T) under the named model."""
    return beta_geometric.p_alive(model_params(model, params), model_spec(model).dropout_at_start, x, t_x, T)


def expected_purchases(model: str, params, t, x, t_x, T) -> np.ndarray:
    """E[purchases in (T, T+t] | x, t_x, T] under the named model; broadcasts."""
    return beta_geometric.expected_purchases(
        model_params(model, params), model_spec(model).dropout_at_start, t, x, t_x, T
    )


def expected_purchases_if_alive(model: str, params, t, x, T) -> np.ndarray:
    """E[purchases in (T, T+t] | alive at T, x, T]; elementwise over equally long 1-D arrays."""
    return beta_geometric.expected_purchases_if_alive(
        model_params(model, params), model_spec(model).dropout_at_start, t, x, T
    )


def churn_probability(model: str, params, x, t_x, T, horizon_days: float) -> np.ndarray:
    """P(no purchase in (T, T + horizon_days] | x, t_x, T) under the named fitted model; broadcasts.

    = 1 - P(alive) (1 - ((alpha+T)/(alpha+T+horizon))^(r+x)). Unlike 1 - P(alive), which is 0 for every
    BG/NBD one-time buyer, it also rises with the customer's silence through the posterior purchase rate.
    """
    if not (math.isfinite(horizon_days) and horizon_days >= 0):
        raise ValueError(f"horizon_days must be a finite non-negative number of days, not {horizon_days}")
    return beta_geometric.probability_no_purchase(
        model_params(model, params), model_spec(model).dropout_at_start, horizon_days, x, t_x, T
    )
