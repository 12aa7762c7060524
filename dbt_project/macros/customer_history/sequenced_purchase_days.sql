{#- One row per customer and purchase day (a day with at least one completed order; several orders on one day
    count once) of the resolved orders `orders`, numbered in time with the interval since the previous one. -#}
{% macro sequenced_purchase_days(orders) -%}
with

completed_orders as (

    select
        customer_key,
        order_date,
        net_amount

    from {{ orders }}
    where is_completed

),

purchase_days as (

    select
        customer_key,
        order_date as purchase_date,
        count(*) as completed_orders,
        cast(coalesce(sum(net_amount), 0) as {{ type_money() }}) as net_revenue

    from completed_orders
    group by customer_key, order_date

),

sequenced as (

    select
        customer_key,
        purchase_date,
        completed_orders,
        net_revenue,
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
