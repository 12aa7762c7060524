"""The calibration summary every fit and score starts from: one row per customer, checked on the way in.

Time unit: the day. Columns (computed upstream in dbt, the ``lifetimes`` convention):

- customer_key;
- frequency ``x``: purchase days after the first (a purchase = a distinct day with completed orders);
- recency ``t_x``: days from the first to the last purchase day;
- t ``T``: days from the first purchase day to ``as_of_date``;
- monetary ``m``: mean value of the repeat purchase days (first excluded; 0 or null when ``x == 0``);
- historical_revenue (optional): the customer's total revenue over all purchase days, for the fallback;
- as_of_date (optional): checked against the date scored against.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

SUMMARY_COLUMNS = ("customer_key", "frequency", "recency", "t", "monetary")


def summary_frame(summary: pd.DataFrame | pa.Table) -> pd.DataFrame:
    """The summary as pandas (decimals as floats); ValueError when a required column is missing."""
    if isinstance(summary, pa.Table):
        columns = {}
        for name in summary.column_names:
            column = summary[name]
            if name != "customer_key" and pa.types.is_decimal(column.type):
                column = pc.cast(column, pa.float64())
            columns[name] = column
        summary = pa.table(columns).to_pandas()
    missing = [c for c in SUMMARY_COLUMNS if c not in summary.columns]
    if missing:
        raise ValueError(f"the CLV summary is missing column(s) {missing}; expected {list(SUMMARY_COLUMNS)}")
    return summary


def numeric_column(frame: pd.DataFrame, name: str) -> np.ndarray:
    return frame[name].to_numpy(dtype=float, na_value=np.nan)


def purchase_columns(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(frequency, recency, t) as floats, after checking 0 <= recency <= t and frequency >= 0 (no nulls)."""
    frequency, recency, t = (numeric_column(frame, c) for c in ("frequency", "recency", "t"))
    bad = (
        ~np.isfinite(frequency)
        | ~np.isfinite(recency)
        | ~np.isfinite(t)
        | (frequency < 0)
        | (recency < 0)
        | (recency > t)
    )
    if bad.any():
        examples = frame["customer_key"].to_numpy()[bad][:5].tolist()
        raise ValueError(
            f"{int(bad.sum())} CLV summary row(s) violate 0 <= recency <= t and frequency >= 0 "
            f"(or hold nulls), e.g. customer_key {examples}"
        )
    return frequency, recency, t


def check_as_of(frame: pd.DataFrame, as_of_date: date) -> None:
    """The summary's own as_of_date column (when present) must be the date scored against."""
    if "as_of_date" not in frame.columns:
        return
    found = set(pd.to_datetime(frame["as_of_date"]).dropna().dt.date.unique())
    if found - {as_of_date}:
        raise ValueError(f"the summary was computed as of {sorted(found)}, not {as_of_date}")


def whole_if_integral(values: np.ndarray) -> np.ndarray:
    """Day counts back as int64 when they are whole numbers (they are, from the warehouse)."""
    return values.astype(np.int64) if np.all(values == np.round(values)) else values
