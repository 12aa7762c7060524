{#- One row per customer and purchase day (a day with at least one completed order; several orders on one day
    count once) of the resolved orders `orders`, numbered in time with the interval since the previous one; in an
    incremental build only for the customers in `touched` (macros/customer_history/incremental_order_history.sql). -#}
{% macro sequenced_purchase_days(orders, touched=none) -%}
with

completed_orders as (

    select
        customer_key,
        order_date,
        net_amount,
        _rebuild_seq

    from {{ orders }}
    where
        is_completed
        {%- if touched is not none %}
        and customer_key in (select customer_key from {{ touched }})
        {%- endif %}

),

purchase_days as (

    select
        customer_key,
        order_date as purchase_date,
        count(*) as completed_orders,
        cast(coalesce(sum(net_amount), 0) as {{ type_money() }}) as net_revenue,
        max(_rebuild_seq) as _orders_rebuild_seq

    from completed_orders
    group by customer_key, order_date

),

sequenced as (

    select
        customer_key,
        purchase_date,
        completed_orders,
        net_revenue,
        _orders_rebuild_seq,
        row_number() over (partition by customer_key order by purchase_date) as purchase_day_number,
        lag(purchase_date) over (partition by customer_key order by purchase_date) as previous_purchase_date

    from purchase_days

),

final as (

    select
        *,
        {{ days_between('previous_purchase_date', 'purchase_date') }} as days_since_previous_purchase

    from sequenced

)

select * from final
{%- endmacro %}
