{#- Key-account health, 0-100 = five components of 0-20 each:
      recency      20 while the days since the last purchase are within the expected interval
                   (at_risk_after_days / lifecycle_at_risk_rhythm_multiple), falling linearly to 0 at
                   at_risk_after_days (where the customer becomes at risk)
      frequency    20 x purchase days in the last health_trend_window_days / the window before, capped at
      trend        1 (20 if there were none before but some now, 0 if none in either)
      revenue      the same with net revenue
      trend
      satisfaction 2 x the latest NPS (0-10); without one 5 x (CSAT - 1); without either 10 (neutral)
      open tickets 20 - 5 per ticket open at as_of - 5 more per ticket open longer than
                   churn_ticket_open_days, floored at 0 -#}
{%- set multiple = var('lifecycle_at_risk_rhythm_multiple') -%}

with

segments as (

    select * from {{ ref('customer_segments') }}
    where is_key_account

),

customers as (

    select * from {{ ref('customers') }}

),

purchases as (

    select
        customer_key,
        purchase_days_last_trend_window,
        net_revenue_last_trend_window,
        purchase_days_last_trend_window * 1.0 / nullif(purchase_days_prior_trend_window, 0) as frequency_ratio,
        net_revenue_last_trend_window / nullif(net_revenue_prior_trend_window, 0) as revenue_ratio

    from {{ ref('int_customers_purchases_aggregated') }}

),

satisfaction as (

    select * from {{ ref('customer_satisfaction') }}

),

tickets as (

    select * from {{ ref('int_customers_tickets_aggregated') }}

),

clv as (

    select * from {{ ref('customer_clv') }}
    where clv_method = 'bg_nbd_gamma_gamma'

),

components as (

    select
        segments.customer_key,
        customers.customer_name,
        segments.customer_type,
        segments.owner,
        segments.key_account_basis,
        segments.value_tier,
        segments.lifecycle_stage,
        segments.trailing_12m_net_revenue,
        segments.revenue_rank,
        segments.clv_tier,
        coalesce(clv.clv, segments.trailing_12m_net_revenue) as value_at_risk,
        case when clv.clv is null then 'trailing_12m_revenue' else 'clv' end as value_at_risk_basis,
        segments.days_since_last_purchase,
        segments.at_risk_after_days,
        satisfaction.latest_nps_score,
        satisfaction.nps_class,
        satisfaction.latest_csat_score,
        coalesce(tickets.open_ticket_count, 0) as open_ticket_count,
        coalesce(tickets.overdue_open_ticket_count, 0) as overdue_open_ticket_count,
        case
            when segments.days_since_last_purchase is null then 0.0
            when segments.days_since_last_purchase <= segments.at_risk_after_days / {{ multiple }} then 20.0
            when segments.days_since_last_purchase >= segments.at_risk_after_days then 0.0
            else 20.0 * (segments.at_risk_after_days - segments.days_since_last_purchase)
                / (segments.at_risk_after_days - segments.at_risk_after_days / {{ multiple }})
        end as recency_component,
        case
            when purchases.frequency_ratio is not null then 20.0 * least(1, purchases.frequency_ratio)
            when purchases.purchase_days_last_trend_window > 0 then 20.0
            else 0.0
        end as frequency_trend_component,
        case
            when purchases.revenue_ratio is not null then 20.0 * greatest(0, least(1, purchases.revenue_ratio))
            when purchases.net_revenue_last_trend_window > 0 then 20.0
            else 0.0
        end as revenue_trend_component,
        case
            when satisfaction.latest_nps_score is not null then 2.0 * satisfaction.latest_nps_score
            when satisfaction.latest_csat_score is not null then 5.0 * (satisfaction.latest_csat_score - 1)
            else 10.0
        end as satisfaction_component,
        greatest(
            0.0,
            20.0 - 5 * coalesce(tickets.open_ticket_count, 0) - 5 * coalesce(tickets.overdue_open_ticket_count, 0)
        ) as open_tickets_component

    from segments
    inner join customers
        on segments.customer_key = customers.customer_key
    inner join purchases
        on segments.customer_key = purchases.customer_key
    left join satisfaction
        on segments.customer_key = satisfaction.customer_key
    left join tickets
        on segments.customer_key = tickets.customer_key
    left join clv
        on segments.customer_key = clv.customer_key

),

scored as (

    select
        *,
        cast(
            round(
                recency_component
                + frequency_trend_component
                + revenue_trend_component
                + satisfaction_component
                + open_tickets_component
            ) as {{ dbt.type_int() }}
        ) as health_score,
        lifecycle_stage in ('at_risk', 'churned') as alert_overdue,
        revenue_trend_component < 20.0 * (1 - {{ var('churn_spend_decline_share') }}) as alert_revenue_declining,
        coalesce(nps_class = 'detractor', false) as alert_detractor,
        overdue_open_ticket_count > 0 as alert_unresolved_tickets

    from components

),

final as (

    select
        cast(customer_key as {{ dbt.type_string() }}) as customer_key,
        cast(customer_name as {{ dbt.type_string() }}) as customer_name,
        cast(customer_type as {{ dbt.type_string() }}) as customer_type,
        cast(owner as {{ dbt.type_string() }}) as owner,
        cast(key_account_basis as {{ dbt.type_string() }}) as key_account_basis,
        cast(value_tier as {{ dbt.type_string() }}) as value_tier,
        cast(lifecycle_stage as {{ dbt.type_string() }}) as lifecycle_stage,
        cast(trailing_12m_net_revenue as {{ type_money() }}) as trailing_12m_net_revenue,
        cast(revenue_rank as {{ dbt.type_bigint() }}) as revenue_rank,
        cast(clv_tier as {{ dbt.type_string() }}) as clv_tier,
        cast(value_at_risk as {{ type_money() }}) as value_at_risk,
        cast(value_at_risk_basis as {{ dbt.type_string() }}) as value_at_risk_basis,
        cast(days_since_last_purchase as {{ dbt.type_bigint() }}) as days_since_last_purchase,
        cast(latest_nps_score as {{ dbt.type_int() }}) as latest_nps_score,
        cast(latest_csat_score as {{ dbt.type_int() }}) as latest_csat_score,
        cast(open_ticket_count as {{ dbt.type_bigint() }}) as open_ticket_count,
        cast(overdue_open_ticket_count as {{ dbt.type_bigint() }}) as overdue_open_ticket_count,
        cast(health_score as {{ dbt.type_int() }}) as health_score,
        cast(recency_component as {{ type_double() }}) as recency_component,
        cast(frequency_trend_component as {{ type_double() }}) as frequency_trend_component,
        cast(revenue_trend_component as {{ type_double() }}) as revenue_trend_component,
        cast(satisfaction_component as {{ type_double() }}) as satisfaction_component,
        cast(open_tickets_component as {{ type_double() }}) as open_tickets_component,
        cast(alert_overdue as {{ dbt.type_boolean() }}) as alert_overdue,
        cast(alert_revenue_declining as {{ dbt.type_boolean() }}) as alert_revenue_declining,
        cast(alert_detractor as {{ dbt.type_boolean() }}) as alert_detractor,
        cast(alert_unresolved_tickets as {{ dbt.type_boolean() }}) as alert_unresolved_tickets,
        cast(
            health_score < {{ var('key_account_health_alert_below') }} as {{ dbt.type_boolean() }}
        ) as alert_low_health,
        cast(
            alert_overdue
            or alert_revenue_declining
            or alert_detractor
            or alert_unresolved_tickets
            or health_score < {{ var('key_account_health_alert_below') }}
            as {{ dbt.type_boolean() }}
        ) as has_alert,
        cast({{ as_of_date() }} as date) as as_of_date

    from scored

)

select * from final
