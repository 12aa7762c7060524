"""What dbt Python models need to run unchanged on DuckDB and on Spark.

`dbt.ref()` is a DuckDB relation on DuckDB and a Spark DataFrame on Spark; a model's result may be a pandas
frame on DuckDB, while Spark gets a Spark DataFrame built from Arrow (exact column types, no pandas-on-Spark).
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa


def relation_to_arrow(relation, order_by: str | None = None) -> pa.Table:
    """The rows of a `dbt.ref()` as Arrow (collected to the driver on Spark: use it for small relations), sorted
    by `order_by` when given: a parallel scan returns rows in any order, and floating-point sums over them (fits,
    likelihoods, shares) differ in the last bits from run to run unless the order is fixed."""
    table = relation.toArrow() if hasattr(relation, "toArrow") else relation.to_arrow_table()
    return table.sort_by(order_by) if order_by else table


def model_result(session, frame: pd.DataFrame):
    """A model's pandas result in the form the engine running the model writes as a table."""
    if hasattr(session, "createDataFrame"):
        return session.createDataFrame(pa.Table.from_pandas(frame, preserve_index=False))
    return frame
