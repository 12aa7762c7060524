{#- The backtest's customers: one row per customer who had purchased by the backtest's calibration date, with
    the calibration summary as known at the end of that day (macro clv_calibration_summary), their value tier
    and lifecycle stage then, and what happened next: the distinct purchase days in (calibration date, as_of]
    of the completed orders known at the end of the as-of day, credited to the customer whose record placed
    them, as resolved at the calibration date. Customers whose first record came later are not backtested. -#}
{%- set calibration_date = backtest_calibration_date() -%}

with

calibration as (

    {{ clv_calibration_summary(ref('int_purchase_days_sequenced_for_backtest'), calibration_date) }}

),

lifecycle as (

    select
        customer_key,
        lifecycle_stage

    from {{ ref('int_customers_lifecycle_staged_for_backtest') }}

),

value_tiers as (

    select
        customer_key,
        value_tier

    from {{ ref('int_customers_value_tiered_for_backtest') }}

),

calibration_records as (

    select
        customer_record_key,
        customer_key

    from {{ ref('int_customer_records_resolved_for_backtest') }}

),

holdout_orders as (

    select
        calibration_records.customer_key,
        orders.order_date

    from {{ ref('int_orders_resolved') }} as orders
    inner join calibration_records
        on orders.customer_record_key = calibration_records.customer_record_key
    where orders.is_completed and orders.order_date > {{ calibration_date }}

),

holdout as (

    select
        customer_key,
        count(distinct order_date) as holdout_purchase_days

    from holdout_orders
    group by customer_key

),

final as (

    select
        calibration.customer_key,
        calibration.frequency,
        calibration.recency,
        calibration.t,
        calibration.monetary,
        calibration.historical_revenue,
        lifecycle.lifecycle_stage,
        value_tiers.value_tier,
        coalesce(holdout.holdout_purchase_days, 0) as holdout_purchase_days,
        cast({{ calibration_date }} as date) as calibration_date,
        cast({{ as_of_date() }} as date) as as_of_date

    from calibration
    left join lifecycle
        on calibration.customer_key = lifecycle.customer_key
    left join value_tiers
        on calibration.customer_key = value_tiers.customer_key
    left join holdout
        on calibration.customer_key = holdout.customer_key

)

select * from final
