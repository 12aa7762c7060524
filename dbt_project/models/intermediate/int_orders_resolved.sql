{#- Orders on or before as_of of a known customer record, attributed to the resolved customer (macro
    resolved_orders); incremental on DuckDB (macros/customer_history/incremental_order_history.sql). -#}
{{ config(
    materialized=delete_insert_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ rewrite_touched_orders(ref('stg_crm__orders'), ref('int_customer_records_resolved'), as_of_date()) }}",
) }}

{% if is_incremental() -%}
{{ rebuilt_orders_to_append() }}
{%- else -%}
{{ resolved_orders(
    ref('stg_crm__orders'),
    ref('int_customer_records_resolved'),
    as_of_date(),
) }}
{%- endif %}
