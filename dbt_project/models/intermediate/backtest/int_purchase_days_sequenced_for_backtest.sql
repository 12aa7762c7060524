{#- Purchase days as known at the end of the backtest's calibration date (macro sequenced_purchase_days);
    incremental like int_purchase_days_sequenced. -#}
{{ config(
    materialized=delete_insert_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ rewrite_touched_customers(ref('int_orders_resolved_for_backtest')) }}",
) }}

{{ sequenced_purchase_days(
    ref('int_orders_resolved_for_backtest'),
    touched=touched_customers() if is_incremental() else none,
) }}
