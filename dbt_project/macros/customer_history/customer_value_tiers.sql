{#- Value tiers of the customers of `purchase_history` (customer_key, trailing_12m_net_revenue). Pareto (ABC)
    on trailing-12-month net revenue among customers with revenue > 0, largest first (ties by customer_key): a
    customer is A while the revenue of the customers ranked above it is below the A share
    of the total (so A covers the top 70% of revenue including the customer that crosses it), B likewise
    up to the B share (cumulative, default 90%), C the rest; no revenue = none. -#}
{% macro customer_value_tiers(purchase_history) -%}
with

customers as (

    select
        customer_key,
        trailing_12m_net_revenue

    from {{ purchase_history }}

),

ranked as (

    select
        customer_key,
        trailing_12m_net_revenue,
        row_number() over (order by trailing_12m_net_revenue desc, customer_key asc) as revenue_rank,
        coalesce(
            sum(trailing_12m_net_revenue) over (
                order by trailing_12m_net_revenue desc, customer_key asc
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as revenue_ranked_above,
        sum(trailing_12m_net_revenue) over () as total_revenue

    from customers
    where trailing_12m_net_revenue > 0

),

final as (

    select
        customers.customer_key,
        customers.trailing_12m_net_revenue,
        ranked.revenue_rank,
        cast(
            (ranked.revenue_ranked_above + ranked.trailing_12m_net_revenue) / ranked.total_revenue
            as {{ type_double() }}
        ) as cumulative_revenue_share,
        case
            when ranked.customer_key is null then 'none'
            when ranked.revenue_ranked_above < {{ var('value_tier_a_revenue_share') }} * ranked.total_revenue then 'A'
            when ranked.revenue_ranked_above < {{ var('value_tier_b_revenue_share') }} * ranked.total_revenue then 'B'
            else 'C'
        end as value_tier

    from customers
    left join ranked
        on customers.customer_key = ranked.customer_key

)

select
    *,
    case value_tier
        when 'A' then 'high'
        when 'B' then 'medium'
        when 'C' then 'low'
        else 'none'
    end as value_tier_label

from final
{%- endmacro %}
