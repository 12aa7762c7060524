{#- Cross-layer: each customer's lifetime net revenue equals the net amount of its orders in the orders
    mart, and customers without completed orders have none there. -#}
with

order_revenue as (

    select
        customer_key,
        sum(net_amount) as net_revenue,
        count(case when is_completed then 1 end) as completed_orders

    from {{ ref('orders') }}
    group by customer_key

)

select
    customers.customer_key,
    customers.lifetime_net_revenue,
    order_revenue.net_revenue,
    customers.completed_order_count,
    order_revenue.completed_orders

from {{ ref('customers') }} as customers
left join order_revenue
    on customers.customer_key = order_revenue.customer_key
where
    customers.lifetime_net_revenue != coalesce(order_revenue.net_revenue, 0)
    or customers.completed_order_count != coalesce(order_revenue.completed_orders, 0)
