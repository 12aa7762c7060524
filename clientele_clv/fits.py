"""Fitting a purchase model (BG/NBD or MBG/NBD) and Gamma-Gamma on a calibration summary, and deciding
whether scoring may use them; the fits as a table that can be stored and read back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

from clientele_clv.fitting import ModelFit
from clientele_clv.gamma_gamma import MODEL as GAMMA_GAMMA
from clientele_clv.gamma_gamma import GammaGammaParams, fit_gamma_gamma
from clientele_clv.purchase_models import BG_NBD, PURCHASE_MODELS, fit_purchase_model, model_spec
from clientele_clv.summary import numeric_column, purchase_columns, summary_frame

FIT_COLUMNS = ("model", "parameter", "value", "log_likelihood", "n_customers", "converged")
FIT_EXTRA_COLUMNS = ("used_for_scoring", "fit_seconds")


@dataclass(frozen=True)
class ClvFits:
    """The fits, the parameters scoring may use (None = fall back to the historical estimate) and why not.

    ``purchase_model`` names the purchase model (``bg_nbd`` or ``mbg_nbd``) ``purchase_params`` belong to.
    """

    fits: list[ModelFit]
    purchase_model: str
    purchase_params: NamedTuple | None
    gamma_gamma: GammaGammaParams | None
    warnings: list[str]

    def frame(self) -> pd.DataFrame:
        """One row per model and parameter (FIT_COLUMNS), plus used_for_scoring and fit_seconds."""
        used = {self.purchase_model: self.purchase_params is not None, GAMMA_GAMMA: self.gamma_gamma is not None}
        rows = [
            {**row, "used_for_scoring": used.get(fit.model, False), "fit_seconds": fit.seconds}
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
        used_purchase_models = [name for name in PURCHASE_MODELS if name in params]
        if len(used_purchase_models) > 1:
            raise ValueError(f"more than one purchase model is marked used_for_scoring: {used_purchase_models}")
        if used_purchase_models:
            model = used_purchase_models[0]
            purchase_params = model_spec(model).params_type(**params[model])
        else:
            fitted = [name for name in PURCHASE_MODELS if name in set(frame["model"])]
            model, purchase_params = (fitted[0] if len(fitted) == 1 else BG_NBD), None
        gamma_gamma = GammaGammaParams(**params[GAMMA_GAMMA]) if GAMMA_GAMMA in params else None
        return cls(fits=[], purchase_model=model, purchase_params=purchase_params, gamma_gamma=gamma_gamma, warnings=[])


def _guarded_fit(label: str, fit, warnings: list[str], *args, **kwargs) -> ModelFit | None:
    """A fit that cannot crash scoring: numerical errors become a warning (and the fallback)."""
    try:
        return fit(*args, **kwargs)
    except (ArithmeticError, ValueError, np.linalg.LinAlgError) as exc:
        warnings.append(f"{label} fit raised {type(exc).__name__}: {exc}")
        return None


def too_few_customers(n_customers: int, n_repeat: int, min_customers: int, min_repeat_customers: int) -> str | None:
    """Why no model is fitted to this many customers and repeat buyers, or None when they are enough."""
    if n_customers == 0:
        return "no customers to score"
    if n_customers < min_customers:
        return f"models not fitted: {n_customers} customers < clv_min_customers = {min_customers}"
    if n_repeat < min_repeat_customers:
        return f"models not fitted: {n_repeat} repeat customers < clv_min_repeat_customers = {min_repeat_customers}"
    return None


def fit_summary_models(
    model: str,
    frequency: np.ndarray,
    recency: np.ndarray,
    t: np.ndarray,
    monetary: np.ndarray,
    min_customers: int,
    min_repeat_customers: int,
) -> ClvFits:
    """Fit the named purchase model and Gamma-Gamma where the data allow; the usable parameters (or None)
    and why not, in ``warnings``."""
    spec = model_spec(model)
    warnings: list[str] = []
    n_customers = frequency.size
    repeat = frequency > 0
    n_repeat = int(repeat.sum())
    spend_usable = repeat & np.isfinite(monetary) & (monetary > 0)
    n_spend = int(spend_usable.sum())

    def result(fits, purchase_params=None, gamma_gamma=None):
        return ClvFits(fits, spec.name, purchase_params, gamma_gamma, warnings)

    refusal = too_few_customers(n_customers, n_repeat, min_customers, min_repeat_customers)
    if refusal is not None:
        warnings.append(refusal)
        return result([])

    fits: list[ModelFit] = []
    purchase_params = None
    purchase_fit = _guarded_fit(spec.label, fit_purchase_model, warnings, spec.name, frequency, recency, t)
    if purchase_fit is not None:
        fits.append(purchase_fit)
        if purchase_fit.converged:
            purchase_params = purchase_fit.params
        else:
            warnings.append(f"{spec.label} fit failed: {purchase_fit.message}")

    if n_repeat > n_spend:
        warnings.append(f"{n_repeat - n_spend} repeat customer(s) without a positive monetary value skipped")
    if n_spend == 0 or n_spend < min_repeat_customers:
        warnings.append(
            f"Gamma-Gamma not fitted: {n_spend} repeat customers with positive spend < "
            f"clv_min_repeat_customers = {min_repeat_customers}"
        )
        return result(fits, purchase_params)
    gamma_gamma = None
    gamma_gamma_fit = _guarded_fit("Gamma-Gamma", fit_gamma_gamma, warnings, frequency, monetary)
    if gamma_gamma_fit is not None:
        fits.append(gamma_gamma_fit)
        if not gamma_gamma_fit.converged:
            warnings.append(f"Gamma-Gamma fit failed: {gamma_gamma_fit.message}")
        elif gamma_gamma_fit.params.q <= 1.0:
            warnings.append(f"Gamma-Gamma q = {gamma_gamma_fit.params.q:.4g} <= 1: mean spend per purchase is infinite")
        else:
            gamma_gamma = gamma_gamma_fit.params
    return result(fits, purchase_params, gamma_gamma)


def fit_clv_models(
    summary: pd.DataFrame | pa.Table,
    min_customers: int = 50,
    min_repeat_customers: int = 20,
    *,
    purchase_model: str = BG_NBD,
) -> ClvFits:
    """Fit ``purchase_model`` (``bg_nbd`` or ``mbg_nbd``) and Gamma-Gamma on a calibration summary (columns
    in ``summary``). Nothing is fitted below ``min_customers`` customers or ``min_repeat_customers`` repeat
    buyers; ``warnings`` says why a model is not usable."""
    frame = summary_frame(summary)
    frequency, recency, t = purchase_columns(frame)
    monetary = numeric_column(frame, "monetary")
    return fit_summary_models(purchase_model, frequency, recency, t, monetary, min_customers, min_repeat_customers)
