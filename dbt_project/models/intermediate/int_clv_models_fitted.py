"""The purchase model chosen by the in-run backtest (BG/NBD or MBG/NBD) and Gamma-Gamma, fitted on the as-of
calibration summary (one row per model and parameter), with the reason for the choice."""

from datetime import UTC, datetime

from clientele_clv import fit_clv_models
from clientele_clv.backtest_table import purchase_model_choice
from orchestration.lib.dbt_python import model_result, relation_to_arrow


def model(dbt, session):
    dbt.config(materialized="table")
    summary = relation_to_arrow(dbt.ref("int_customers_summarized_for_clv"), order_by="customer_key")
    purchase_model, reason = purchase_model_choice(relation_to_arrow(dbt.ref("int_clv_purchase_models_backtested")))
    fitted = fit_clv_models(
        summary,
        min_customers=int(dbt.config.get("clv_min_customers")),
        min_repeat_customers=int(dbt.config.get("clv_min_repeat_customers")),
        purchase_model=purchase_model,
    )
    as_of_date = summary["as_of_date"][0].as_py() if summary.num_rows else None
    frame = fitted.frame()
    frame = frame.assign(
        as_of_date=as_of_date,
        # typed as text: null on the Gamma-Gamma rows, and a column of nulls has no type a warehouse can infer
        selection_reason=frame["model"].map({purchase_model: reason}).astype("string"),
        fit_warnings="; ".join(fitted.warnings),
        fitted_at=datetime.now(UTC).replace(tzinfo=None),
    )
    return model_result(session, frame)
