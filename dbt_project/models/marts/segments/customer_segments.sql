{#- Key accounts: customers of a key customer type in a key value tier (vars key_account_customer_types,
    key_account_value_tiers), or among the top key_account_top_n by trailing-12-month net revenue. -#}
with

customers as (

    select * from {{ ref('customers') }}

),

value_tiers as (

    select * from {{ ref('int_customers_value_tiered') }}

),

lifecycle as (

    select * from {{ ref('int_customers_lifecycle_staged') }}

),

rfm as (

    select * from {{ ref('customer_rfm') }}

),

clv as (

    select * from {{ ref('customer_clv') }}

),

needs as (

    select * from {{ ref('int_customers_needs_tiered') }}

),

behaviour as (

    select * from {{ ref('int_customers_behaviour_classified') }}

),

purchases as (

    select * from {{ ref('int_customers_purchases_aggregated') }}

),

playbook as (

    select * from {{ ref('segment_playbook') }}

),

segmented as (

    select
        customers.customer_key,
        customers.as_of_date,
        customers.customer_type,
        customers.owner,
        value_tiers.trailing_12m_net_revenue,
        value_tiers.revenue_rank,
        value_tiers.cumulative_revenue_share,
        value_tiers.value_tier,
        value_tiers.value_tier_label,
        lifecycle.purchase_days_t12m,
        lifecycle.frequency_tier,
        lifecycle.lifecycle_stage,
        lifecycle.days_since_last_purchase,
        lifecycle.median_interpurchase_days,
        lifecycle.at_risk_after_days,
        customers.country_code,
        customers.country,
        customers.province,
        customers.city,
        customers.city_tier,
        customers.region,
        customers.region_class,
        customers.market_class,
        needs.product_demand_tier,
        needs.service_demand_tier,
        needs.price_demand_tier,
        behaviour.engagement_tier,
        behaviour.preferred_channel,
        behaviour.purchase_time_pattern,
        behaviour.purchase_time_of_day,
        {#- ABC on spend and frequency together: points for the value tier (A 2, B 1, C 0) plus points for
            the frequency tier (high 2, medium 1, low 0). #}
        case
            when value_tiers.value_tier = 'none' then 'none'
            when {{ abc_score('value_tiers.value_tier', 'lifecycle.frequency_tier') }}
                >= {{ var('abc_a_min_score') }} then 'A'
            when {{ abc_score('value_tiers.value_tier', 'lifecycle.frequency_tier') }}
                >= {{ var('abc_b_min_score') }} then 'B'
            else 'C'
        end as abc_class,
        (
            value_tiers.value_tier in ({{ quoted_list(var('potential_value_tiers')) }})
            and (
                coalesce(clv.clv_tier, 'none') in ({{ quoted_list(var('potential_clv_tiers')) }})
                or (
                    purchases.net_revenue_prior_trend_window > 0
                    and purchases.net_revenue_last_trend_window
                    >= {{ var('potential_min_growth_multiple') }} * purchases.net_revenue_prior_trend_window
                )
            )
        ) as is_potential,
        rfm.rfm_score,
        rfm.rfm_segment,
        clv.clv,
        coalesce(clv.clv_tier, 'none') as clv_tier,
        clv.churn_probability,
        (
            customers.customer_type in ({{ quoted_list(var('key_account_customer_types')) }})
            and value_tiers.value_tier in ({{ quoted_list(var('key_account_value_tiers')) }})
        ) as is_key_account_by_tier,
        coalesce(value_tiers.revenue_rank <= {{ var('key_account_top_n') }}, false) as is_key_account_by_revenue

    from customers
    inner join value_tiers
        on customers.customer_key = value_tiers.customer_key
    inner join lifecycle
        on customers.customer_key = lifecycle.customer_key
    left join rfm
        on customers.customer_key = rfm.customer_key
    left join clv
        on customers.customer_key = clv.customer_key
    inner join needs
        on customers.customer_key = needs.customer_key
    inner join behaviour
        on customers.customer_key = behaviour.customer_key
    inner join purchases
        on customers.customer_key = purchases.customer_key

),

candidate_actions as (

    {#- The playbook's action for each customer: the row of its value tier and lifecycle stage, or a row of a
        segment it belongs to (e.g. service_demand_tier = high) when that one is at least as urgent (lower or
        equal action_priority); among equals the segment row first, then by dimension name. #}
    select
        segmented.customer_key,
        playbook.recommended_action,
        playbook.action_channel,
        playbook.action_priority,
        'value_tier x lifecycle_stage' as action_basis,
        1 as basis_order,
        '' as basis_dimension

    from segmented
    inner join playbook
        on
            segmented.value_tier = playbook.value_tier
            and segmented.lifecycle_stage = playbook.lifecycle_stage
    where playbook.segment_dimension is null

    union all

    select
        segmented.customer_key,
        playbook.recommended_action,
        playbook.action_channel,
        playbook.action_priority,
        {{ dbt.concat(['playbook.segment_dimension', "' = '", 'playbook.segment_value']) }} as action_basis,
        0 as basis_order,
        playbook.segment_dimension as basis_dimension

    from segmented
    inner join playbook
        on
            playbook.segment_value = case playbook.segment_dimension
                {%- for dimension in segment_dimensions() if dimension != 'all' %}
                when '{{ dimension }}' then cast(segmented.{{ dimension }} as {{ dbt.type_string() }})
                {%- endfor %}
            end

),

actions as (

    select *

    from (
        select
            *,
            row_number() over (
                partition by customer_key order by action_priority asc, basis_order asc, basis_dimension asc
            ) as action_rank

        from candidate_actions
    ) as ranked
    where action_rank = 1

),

final as (

    select
        cast(segmented.customer_key as {{ dbt.type_string() }}) as customer_key,
        cast(segmented.as_of_date as date) as as_of_date,
        cast(segmented.customer_type as {{ dbt.type_string() }}) as customer_type,
        cast(segmented.owner as {{ dbt.type_string() }}) as owner,
        cast(segmented.trailing_12m_net_revenue as {{ type_money() }}) as trailing_12m_net_revenue,
        cast(segmented.revenue_rank as {{ dbt.type_bigint() }}) as revenue_rank,
        cast(segmented.cumulative_revenue_share as {{ type_double() }}) as cumulative_revenue_share,
        cast(segmented.value_tier as {{ dbt.type_string() }}) as value_tier,
        cast(segmented.value_tier_label as {{ dbt.type_string() }}) as value_tier_label,
        cast(segmented.purchase_days_t12m as {{ dbt.type_bigint() }}) as purchase_days_t12m,
        cast(segmented.frequency_tier as {{ dbt.type_string() }}) as frequency_tier,
        cast(segmented.lifecycle_stage as {{ dbt.type_string() }}) as lifecycle_stage,
        cast(segmented.days_since_last_purchase as {{ dbt.type_bigint() }}) as days_since_last_purchase,
        cast(segmented.median_interpurchase_days as {{ type_double() }}) as median_interpurchase_days,
        cast(segmented.at_risk_after_days as {{ type_double() }}) as at_risk_after_days,
        cast(segmented.country_code as {{ dbt.type_string() }}) as country_code,
        cast(segmented.country as {{ dbt.type_string() }}) as country,
        cast(segmented.province as {{ dbt.type_string() }}) as province,
        cast(segmented.city as {{ dbt.type_string() }}) as city,
        cast(segmented.city_tier as {{ dbt.type_string() }}) as city_tier,
        cast(segmented.region as {{ dbt.type_string() }}) as region,
        cast(segmented.region_class as {{ dbt.type_string() }}) as region_class,
        cast(segmented.market_class as {{ dbt.type_string() }}) as market_class,
        cast(segmented.product_demand_tier as {{ dbt.type_string() }}) as product_demand_tier,
        cast(segmented.service_demand_tier as {{ dbt.type_string() }}) as service_demand_tier,
        cast(segmented.price_demand_tier as {{ dbt.type_string() }}) as price_demand_tier,
        cast(segmented.engagement_tier as {{ dbt.type_string() }}) as engagement_tier,
        cast(segmented.preferred_channel as {{ dbt.type_string() }}) as preferred_channel,
        cast(segmented.purchase_time_pattern as {{ dbt.type_string() }}) as purchase_time_pattern,
        cast(segmented.purchase_time_of_day as {{ dbt.type_string() }}) as purchase_time_of_day,
        cast(segmented.abc_class as {{ dbt.type_string() }}) as abc_class,
        cast(segmented.is_potential as {{ dbt.type_boolean() }}) as is_potential,
        cast(segmented.rfm_score as {{ dbt.type_string() }}) as rfm_score,
        cast(segmented.rfm_segment as {{ dbt.type_string() }}) as rfm_segment,
        cast(segmented.clv as {{ type_money() }}) as clv,
        cast(segmented.clv_tier as {{ dbt.type_string() }}) as clv_tier,
        cast(segmented.churn_probability as {{ type_double() }}) as churn_probability,
        cast(
            segmented.is_key_account_by_tier or segmented.is_key_account_by_revenue as {{ dbt.type_boolean() }}
        ) as is_key_account,
        cast(
            case
                when segmented.is_key_account_by_tier and segmented.is_key_account_by_revenue then 'tier_and_revenue'
                when segmented.is_key_account_by_tier then 'value_tier'
                when segmented.is_key_account_by_revenue then 'top_revenue'
                else 'none'
            end as {{ dbt.type_string() }}
        ) as key_account_basis,
        cast(actions.recommended_action as {{ dbt.type_string() }}) as recommended_action,
        cast(actions.action_channel as {{ dbt.type_string() }}) as action_channel,
        cast(actions.action_priority as {{ dbt.type_int() }}) as action_priority,
        cast(actions.action_basis as {{ dbt.type_string() }}) as action_basis

    from segmented
    left join actions
        on segmented.customer_key = actions.customer_key

)

select * from final
