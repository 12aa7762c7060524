"""Every purchase model (BG/NBD, MBG/NBD) calibrated as of the backtest's calibration date, its predictions for
the next backtest_horizon_days compared with what happened up to the as-of date, and the model chosen by the
backtest (one long table: clientele_clv.backtest_table)."""

from clientele_clv import backtest_purchase_models
from clientele_clv.backtest_table import ChurnList, backtest_table
from orchestration.lib.dbt_python import model_result, relation_to_arrow

GROUP_COLUMNS = ("value_tier", "lifecycle_stage")


def model(dbt, session):
    dbt.config(materialized="table")
    customers = relation_to_arrow(dbt.ref("int_customers_summarized_for_backtest"), order_by="customer_key").to_pandas()
    frequency, recency, t, holdout = (
        customers[column].to_numpy(dtype=float) for column in ("frequency", "recency", "t", "holdout_purchase_days")
    )
    report = backtest_purchase_models(
        frequency,
        recency,
        t,
        holdout,
        float(dbt.config.get("backtest_horizon_days")),
        min_customers=int(dbt.config.get("clv_min_customers")),
        min_repeat_customers=int(dbt.config.get("clv_min_repeat_customers")),
    )
    churn_list = ChurnList(
        eligible=customers["lifecycle_stage"].isin(list(dbt.config.get("churn_risk_lifecycle_stages"))).to_numpy(),
        threshold=float(dbt.config.get("churn_probability_threshold")),
        max_share=float(dbt.config.get("churn_list_max_share")),
    )
    table = backtest_table(report, frequency, recency, t, holdout, customers, GROUP_COLUMNS, churn_list)
    return model_result(session, table)
