{#- One row per order dated on or before `as_of` (a SQL date expression) in the version of `order_versions`
    (stg_crm__orders) known at the end of that day, whose buyer is a record of `customer_records` (resolved as
    of the same day), attributed to the resolved customer and numbered in the customer's history. Orders of
    unknown customer records (orphans) are left out; stg_crm__orders' relationship test warns.

    In an incremental build (macros/customer_history/incremental_order_history.sql) only the customers whose
    orders changed are numbered again: `touched` names the relation of their keys. -#}
{% macro resolved_orders(order_versions, customer_records, as_of, touched=none) -%}
with

attributed as (

    {{ attributed_orders(order_versions, customer_records, as_of) }}

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
    {%- if touched is not none %}
    where customer_key in (select customer_key from {{ touched }})
    {%- endif %}

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
        case when is_completed then completed_orders_so_far end as customer_purchase_number,
        {{ order_history_rebuild_seq(touched) }} as _rebuild_seq

    from numbered

)

select * from final
{%- endmacro %}

{#- The orders known at the end of `as_of` with their resolved customer: the columns an order's history row
    takes from its order and customer record, before numbering. -#}
{% macro attributed_orders(order_versions, customer_records, as_of) -%}
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

    from {{ order_versions }} as orders
    inner join {{ customer_records }} as customer_records
        on orders.customer_record_key = customer_records.customer_record_key
    where
        {{ known_at(as_of_end(as_of), 'orders') }}
        and orders.order_date <= {{ as_of }}
{%- endmacro %}
