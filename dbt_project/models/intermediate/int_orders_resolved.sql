{#- The orders as of as_of: a view, so the nightly build only filters what int_orders_numbered keeps. -#}
{{ config(materialized='view') }}

with

orders as (

    select * from {{ ref('int_orders_numbered') }}

),

final as (

    select
        order_key,
        source_profile,
        order_id,
        customer_key,
        customer_record_key,
        customer_id,
        order_date,
        order_status,
        is_completed,
        channel,
        currency,
        amount_in_order_currency,
        amount,
        net_amount,
        customer_order_number,
        customer_purchase_number

    from orders
    where order_date <= {{ as_of_date() }}

)

select * from final
