{#- Orders on or before the backtest's calibration date in the version known at the end of that day, attributed
    to the customers as resolved then (macro resolved_orders); incremental like int_orders_resolved. -#}
{{ config(
    materialized=delete_insert_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ rewrite_touched_orders(ref('stg_crm__orders'), ref('int_customer_records_resolved_for_backtest'), backtest_calibration_date()) }}",
) }}

{% if is_incremental() -%}
{{ rebuilt_orders_to_append() }}
{%- else -%}
{{ resolved_orders(
    ref('stg_crm__orders'),
    ref('int_customer_records_resolved_for_backtest'),
    backtest_calibration_date(),
) }}
{%- endif %}
