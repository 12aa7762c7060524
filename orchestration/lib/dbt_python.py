"""What dbt Python models need to run unchanged on DuckDB and on Spark.

`dbt.ref()` is a DuckDB relation on DuckDB and a Spark DataFrame on Spark; a model's result may be a pandas
frame on DuckDB, while Spark gets a Spark DataFrame built from Arrow (exact column types, no pandas-on-Spark).
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa


def relation_to_arrow(relation) -> pa.Table:
    """The rows of a `dbt.ref()` as Arrow (collected to the driver on Spark: use it for small relations)."""
    if hasattr(relation, "toArrow"):
        return relation.toArrow()
    return relation.to_arrow_table()


def model_result(session, frame: pd.DataFrame):
    """A model's pandas result in the form the engine running the model writes as a table."""
    if hasattr(session, "createDataFrame"):
        return session.createDataFrame(pa.Table.from_pandas(frame, preserve_index=False))
    return frame
