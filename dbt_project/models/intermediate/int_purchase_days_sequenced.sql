{#- A purchase day is a day with at least one completed order; several orders on one day count once (macro
    sequenced_purchase_days); incremental on DuckDB (macros/customer_history/incremental_order_history.sql). -#}
{{ config(
    materialized=delete_insert_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ rewrite_touched_customers(ref('int_orders_resolved')) }}",
) }}

{{ sequenced_purchase_days(ref('int_orders_resolved'), touched=touched_customers() if is_incremental() else none) }}
