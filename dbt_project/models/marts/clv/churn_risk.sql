{#- Churn warning list: current customers (lifecycle stage in churn_risk_lifecycle_stages) whose churn_probability (no
    purchase in the next churn_horizon_days, from the purchase model chosen by the backtest) is above
    churn_probability_threshold (at most churn_list_max_share of current customers on probability alone, the
    most likely first: a list the team can work, also where most customers are slow buyers), or with a severe
    reason: a detractor answer or a ticket left open. Ranked by
    expected_value_lost = churn_probability x the customer's value (trailing-12-month net revenue: what their
    leaving would stop; CLV would count the departure twice, being already weighted by P(alive)). Reasons:
      likely_to_churn     churn_probability above churn_probability_threshold, within the list's capacity
      overdue             at_risk stage: no purchase for longer than at_risk_after_days
      declining_spend     net revenue of the last churn_spend_window_days days is at least
                          churn_spend_decline_share below the window before (which had revenue)
      detractor           latest NPS answer in the satisfaction window is 0-6
      unresolved_tickets  a ticket open at as_of was opened more than churn_ticket_open_days ago
    overdue and declining_spend explain a listed customer; alone they do not list one. -#}
with

segments as (

    select * from {{ ref('customer_segments') }}

),

customers as (

    select * from {{ ref('customers') }}

),

purchases as (

    select * from {{ ref('int_customers_purchases_aggregated') }}

),

satisfaction as (

    select * from {{ ref('customer_satisfaction') }}

),

tickets as (

    select * from {{ ref('int_customers_tickets_aggregated') }}

),

clv as (

    select * from {{ ref('customer_clv') }}

),

flagged as (

    select
        segments.customer_key,
        customers.customer_name,
        segments.owner,
        segments.value_tier,
        segments.lifecycle_stage,
        clv.churn_probability,
        clv.churn_method,
        segments.trailing_12m_net_revenue as customer_value,
        clv.churn_probability * segments.trailing_12m_net_revenue as expected_value_lost,
        segments.days_since_last_purchase,
        segments.at_risk_after_days,
        purchases.net_revenue_last_spend_window,
        purchases.net_revenue_prior_spend_window,
        satisfaction.latest_nps_score,
        segments.recommended_action,
        coalesce(tickets.overdue_open_ticket_count, 0) as overdue_open_ticket_count,
        clv.churn_probability > {{ var('churn_probability_threshold') }}
        and row_number() over (order by clv.churn_probability desc, segments.customer_key asc)
        <= {{ var('churn_list_max_share') }} * count(*) over () as is_churn_likely,
        segments.lifecycle_stage = 'at_risk' as is_overdue,
        (
            purchases.net_revenue_prior_spend_window > 0
            and purchases.net_revenue_last_spend_window
            <= (1 - {{ var('churn_spend_decline_share') }}) * purchases.net_revenue_prior_spend_window
        ) as is_spend_declining,
        coalesce(satisfaction.nps_class = 'detractor', false) as is_detractor,
        coalesce(tickets.overdue_open_ticket_count, 0) > 0 as has_unresolved_tickets

    from segments
    inner join customers
        on segments.customer_key = customers.customer_key
    inner join purchases
        on segments.customer_key = purchases.customer_key
    inner join clv
        on segments.customer_key = clv.customer_key
    left join satisfaction
        on segments.customer_key = satisfaction.customer_key
    left join tickets
        on segments.customer_key = tickets.customer_key
    where segments.lifecycle_stage in ({{ quoted_list(var('churn_risk_lifecycle_stages')) }})

),

at_risk as (

    select
        *,
        {{ dbt.concat([
            "case when is_churn_likely then ',likely_to_churn' else '' end",
            "case when is_overdue then ',overdue' else '' end",
            "case when is_spend_declining then ',declining_spend' else '' end",
            "case when is_detractor then ',detractor' else '' end",
            "case when has_unresolved_tickets then ',unresolved_tickets' else '' end",
        ]) }} as reason_list,
        (
            case when is_churn_likely then 1 else 0 end
            + case when is_overdue then 1 else 0 end
            + case when is_spend_declining then 1 else 0 end
            + case when is_detractor then 1 else 0 end
            + case when has_unresolved_tickets then 1 else 0 end
        ) as reason_count

    from flagged
    where is_churn_likely or is_detractor or has_unresolved_tickets

),

final as (

    select
        cast(customer_key as {{ dbt.type_string() }}) as customer_key,
        cast(
            row_number()
                over (order by expected_value_lost desc, churn_probability desc, reason_count desc, customer_key asc)
            as {{ dbt.type_bigint() }}
        ) as churn_risk_rank,
        cast(churn_probability as {{ type_double() }}) as churn_probability,
        cast(churn_method as {{ dbt.type_string() }}) as churn_method,
        cast(customer_value as {{ type_money() }}) as customer_value,
        cast(expected_value_lost as {{ type_money() }}) as expected_value_lost,
        cast(substring(reason_list, 2) as {{ dbt.type_string() }}) as reason_codes,
        cast(reason_count as {{ dbt.type_int() }}) as reason_count,
        cast(is_churn_likely as {{ dbt.type_boolean() }}) as is_churn_likely,
        cast(is_overdue as {{ dbt.type_boolean() }}) as is_overdue,
        cast(is_spend_declining as {{ dbt.type_boolean() }}) as is_spend_declining,
        cast(is_detractor as {{ dbt.type_boolean() }}) as is_detractor,
        cast(has_unresolved_tickets as {{ dbt.type_boolean() }}) as has_unresolved_tickets,
        cast(customer_name as {{ dbt.type_string() }}) as customer_name,
        cast(owner as {{ dbt.type_string() }}) as owner,
        cast(value_tier as {{ dbt.type_string() }}) as value_tier,
        cast(lifecycle_stage as {{ dbt.type_string() }}) as lifecycle_stage,
        cast(days_since_last_purchase as {{ dbt.type_bigint() }}) as days_since_last_purchase,
        cast(at_risk_after_days as {{ type_double() }}) as at_risk_after_days,
        cast(net_revenue_last_spend_window as {{ type_money() }}) as net_revenue_last_spend_window,
        cast(net_revenue_prior_spend_window as {{ type_money() }}) as net_revenue_prior_spend_window,
        cast(latest_nps_score as {{ dbt.type_int() }}) as latest_nps_score,
        cast(overdue_open_ticket_count as {{ dbt.type_bigint() }}) as overdue_open_ticket_count,
        cast(recommended_action as {{ dbt.type_string() }}) as recommended_action,
        cast({{ as_of_date() }} as date) as as_of_date

    from at_risk

)

select * from final
