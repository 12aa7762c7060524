{#- Incremental on DuckDB like the order history it copies (macros/customer_history/incremental_order_history.sql):
    a night rewrites the rows of the customers whose orders changed. -#}
{{ config(
    materialized=delete_insert_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ rewrite_touched_customers(ref('int_orders_resolved')) }}",
) }}

with

orders as (

    select * from {{ ref('int_orders_resolved') }}
    {%- if is_incremental() %}
    where customer_key in (select customer_key from {{ touched_customers() }})
    {%- endif %}

),

final as (

    select
        cast(order_key as {{ dbt.type_string() }}) as order_key,
        cast(source_profile as {{ dbt.type_string() }}) as source_profile,
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        cast(customer_key as {{ dbt.type_string() }}) as customer_key,
        cast(customer_record_key as {{ dbt.type_string() }}) as customer_record_key,
        cast(order_date as date) as order_date,
        cast(order_status as {{ dbt.type_string() }}) as order_status,
        cast(is_completed as {{ dbt.type_boolean() }}) as is_completed,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(amount_in_order_currency as {{ type_money() }}) as amount_in_order_currency,
        cast(amount as {{ type_money() }}) as gross_amount,
        cast(net_amount as {{ type_money() }}) as net_amount,
        cast(customer_order_number as {{ dbt.type_bigint() }}) as customer_order_number,
        cast(customer_order_number = 1 as {{ dbt.type_boolean() }}) as is_first_order,
        cast(customer_purchase_number as {{ dbt.type_bigint() }}) as customer_purchase_number,
        cast(coalesce(customer_purchase_number = 1, false) as {{ dbt.type_boolean() }}) as is_first_purchase,
        cast(_rebuild_seq as {{ dbt.type_bigint() }}) as _orders_rebuild_seq

    from orders

)

select * from final
