"""Per-customer CLV and churn from the stored fits: P(alive), expected purchases and spend, discounted CLV, tier,
and the probability of no purchase in the next churn_horizon_days."""

from clientele_clv import ClvFits, score_customers
from orchestration.lib.dbt_python import model_result, relation_to_arrow


def model(dbt, session):
    dbt.config(materialized="table")
    summary = relation_to_arrow(dbt.ref("int_customers_summarized_for_clv"), order_by="customer_key")
    fits = relation_to_arrow(dbt.ref("int_clv_models_fitted"))
    as_of_date = summary["as_of_date"][0].as_py() if summary.num_rows else None
    result = score_customers(
        summary,
        as_of_date,
        horizon_months=int(dbt.config.get("clv_horizon_months")),
        monthly_discount_rate=float(dbt.config.get("clv_monthly_discount_rate")),
        fitted=ClvFits.from_frame(fits),
        churn_horizon_days=float(dbt.config.get("churn_horizon_days")),
    )
    return model_result(session, result.scores.assign(as_of_date=as_of_date))
