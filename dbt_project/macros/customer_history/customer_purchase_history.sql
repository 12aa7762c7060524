{#- Order history per resolved customer as of `as_of` (a SQL date expression): every customer of
    `customer_records` (zeros for leads), from their resolved `orders` and `purchase_days` as of that day.
    Windows are trailing and end on as_of inclusive: "last 90 days" = (as_of - 90 days, as_of]. -#}
{% macro customer_purchase_history(customer_records, orders, purchase_days, as_of) -%}
{%- set trailing_12m_start = dbt.dateadd('month', -12, as_of) -%}
{%- set spend_window = var('churn_spend_window_days') | int -%}
{%- set trend_window = var('health_trend_window_days') | int -%}

with

customers as (

    select distinct customer_key

    from {{ customer_records }}

),

orders as (

    select * from {{ orders }}

),

purchase_days as (

    select * from {{ purchase_days }}

),

orders_by_customer as (

    select
        customer_key,
        count(*) as order_count,
        count(case when is_completed then 1 end) as completed_order_count,
        count(case when is_completed and order_date > {{ trailing_12m_start }} then 1 end)
            as completed_orders_t12m,
        min(order_date) as first_order_date

    from orders
    group by customer_key

),

purchases_by_customer as (

    select
        customer_key,
        count(*) as purchase_days,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        max(previous_purchase_date) as previous_purchase_date,
        sum(net_revenue) as lifetime_net_revenue,
        count(case when purchase_date > {{ trailing_12m_start }} then 1 end) as purchase_days_t12m,
        sum(case when purchase_date > {{ trailing_12m_start }} then net_revenue else 0 end)
            as trailing_12m_net_revenue,
        sum(
            case when purchase_date > {{ dbt.dateadd('day', -spend_window, as_of) }} then net_revenue else 0 end
        ) as net_revenue_last_spend_window,
        sum(
            case
                when purchase_date > {{ dbt.dateadd('day', -2 * spend_window, as_of) }}
                    and purchase_date <= {{ dbt.dateadd('day', -spend_window, as_of) }}
                    then net_revenue
                else 0
            end
        ) as net_revenue_prior_spend_window,
        count(
            case when purchase_date > {{ dbt.dateadd('day', -trend_window, as_of) }} then 1 end
        ) as purchase_days_last_trend_window,
        count(
            case
                when purchase_date > {{ dbt.dateadd('day', -2 * trend_window, as_of) }}
                    and purchase_date <= {{ dbt.dateadd('day', -trend_window, as_of) }}
                    then 1
            end
        ) as purchase_days_prior_trend_window,
        sum(
            case when purchase_date > {{ dbt.dateadd('day', -trend_window, as_of) }} then net_revenue else 0 end
        ) as net_revenue_last_trend_window,
        sum(
            case
                when purchase_date > {{ dbt.dateadd('day', -2 * trend_window, as_of) }}
                    and purchase_date <= {{ dbt.dateadd('day', -trend_window, as_of) }}
                    then net_revenue
                else 0
            end
        ) as net_revenue_prior_trend_window,
        {{ median('days_since_previous_purchase') }} as median_interpurchase_days,
        avg(days_since_previous_purchase) as mean_interpurchase_days,
        max(
            case
                when days_since_previous_purchase >= {{ var('lifecycle_reactivation_gap_days') }}
                    then purchase_date
            end
        ) as last_reactivation_date

    from purchase_days
    group by customer_key

),

final as (

    select
        customers.customer_key,
        coalesce(orders_by_customer.order_count, 0) as order_count,
        coalesce(orders_by_customer.completed_order_count, 0) as completed_order_count,
        coalesce(orders_by_customer.completed_orders_t12m, 0) as completed_orders_t12m,
        orders_by_customer.first_order_date,
        coalesce(purchases_by_customer.purchase_days, 0) as purchase_days,
        coalesce(purchases_by_customer.purchase_days_t12m, 0) as purchase_days_t12m,
        purchases_by_customer.first_purchase_date,
        purchases_by_customer.last_purchase_date,
        purchases_by_customer.previous_purchase_date,
        purchases_by_customer.last_reactivation_date,
        {{ days_between('purchases_by_customer.first_purchase_date', as_of) }} as days_since_first_purchase,
        {{ days_between('purchases_by_customer.last_purchase_date', as_of) }} as days_since_last_purchase,
        cast(purchases_by_customer.median_interpurchase_days as {{ type_double() }}) as median_interpurchase_days,
        cast(purchases_by_customer.mean_interpurchase_days as {{ type_double() }}) as mean_interpurchase_days,
        {%- for column in [
            'lifetime_net_revenue', 'trailing_12m_net_revenue',
            'net_revenue_last_spend_window', 'net_revenue_prior_spend_window',
            'net_revenue_last_trend_window', 'net_revenue_prior_trend_window',
        ] %}
        cast(coalesce(purchases_by_customer.{{ column }}, 0) as {{ type_money() }}) as {{ column }},
        {%- endfor %}
        coalesce(purchases_by_customer.purchase_days_last_trend_window, 0) as purchase_days_last_trend_window,
        coalesce(purchases_by_customer.purchase_days_prior_trend_window, 0) as purchase_days_prior_trend_window,
        {{ as_of }} as as_of_date

    from customers
    left join orders_by_customer
        on customers.customer_key = orders_by_customer.customer_key
    left join purchases_by_customer
        on customers.customer_key = purchases_by_customer.customer_key

)

select * from final
{%- endmacro %}
