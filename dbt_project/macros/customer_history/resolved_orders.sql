{#- One row per order dated on or before `as_of` (a SQL date expression) in the version of `order_versions`
    (stg_crm__orders) known at the end of that day, whose buyer is a record of `customer_records` (resolved as
    of the same day), attributed to the resolved customer and numbered in the customer's history. Orders of
    unknown customer records (orphans) are left out; stg_crm__orders' relationship test warns. -#}
{% macro resolved_orders(order_versions, customer_records, as_of) -%}
with

orders as (

    select * from {{ order_versions }}
    where {{ known_at(as_of_end(as_of)) }}

),

customer_records as (

    select
        customer_record_key,
        customer_key

    from {{ customer_records }}

),

attributed as (

    select
        orders.order_key,
        orders.source_profile,
        orders.order_id,
        customer_records.customer_key,
        orders.customer_record_key,
        orders.customer_id,
        orders.order_date,
        orders.ordered_at,
        orders.order_status,
        orders.is_completed,
        orders.channel,
        orders.currency,
        orders.amount_in_order_currency,
        orders.amount,
        case when orders.is_completed then orders.amount else 0 end as net_amount

    from orders
    inner join customer_records
        on orders.customer_record_key = customer_records.customer_record_key
    where orders.order_date <= {{ as_of }}

),

numbered as (

    {#- Same partition and order twice, so the engine sorts once: the purchase number is the running
        count of completed orders (spelled out: Spark cannot extend a named window with a frame). #}
    select
        *,
        row_number() over (
            partition by customer_key order by order_date asc, order_key asc
        ) as customer_order_number,
        count(case when is_completed then 1 end) over (
            partition by customer_key order by order_date asc, order_key asc
            rows between unbounded preceding and current row
        ) as completed_orders_so_far

    from attributed

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
        ordered_at,
        order_status,
        is_completed,
        channel,
        currency,
        amount_in_order_currency,
        amount,
        net_amount,
        customer_order_number,
        case when is_completed then completed_orders_so_far end as customer_purchase_number

    from numbered

)

select * from final
{%- endmacro %}
