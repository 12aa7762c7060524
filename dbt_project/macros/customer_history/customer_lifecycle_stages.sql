{#- Frequency tier and lifecycle stage per customer of `purchase_history` (int_customers_purchases_aggregated's
    columns) as of `as_of` (a SQL date expression). The stages are exclusive and checked in this order:
      prospect     no completed purchase on or before as_of
      churned      no purchase for lifecycle_churned_after_days (365) or more
      reactivated  bought within lifecycle_reactivated_window_days (90) after a gap of
                   lifecycle_reactivation_gap_days (365) or more
      new          first purchase within lifecycle_new_window_days (90)
      at_risk      no purchase for longer than at_risk_after_days: with a purchase rhythm
                   (lifecycle_min_purchases_for_rhythm purchase days or more) lifecycle_at_risk_rhythm_multiple x the
                   median inter-purchase interval, but never less than lifecycle_at_risk_min_days; without one,
                   lifecycle_active_window_days (180)
      active       otherwise
    The floor keeps bursty buyers (several purchases days apart, then a normal pause) from being flagged a week
    after a purchase: their median gap says little about the pause after a burst. -#}
{% macro customer_lifecycle_stages(purchase_history, as_of) -%}
with

purchases as (

    select * from {{ purchase_history }}

),

rhythm as (

    select
        *,
        purchase_days >= {{ var('lifecycle_min_purchases_for_rhythm') }} as has_purchase_rhythm,
        {{ days_between('last_reactivation_date', as_of) }} as days_since_reactivation

    from purchases

),

thresholds as (

    select
        *,
        cast(
            case
                when has_purchase_rhythm
                    then greatest(
                        {{ var('lifecycle_at_risk_rhythm_multiple') }} * median_interpurchase_days,
                        {{ var('lifecycle_at_risk_min_days') }}
                    )
                else {{ var('lifecycle_active_window_days') }}
            end
            as {{ type_double() }}
        ) as at_risk_after_days

    from rhythm

),

final as (

    select
        customer_key,
        purchase_days,
        purchase_days_t12m,
        case
            when purchase_days = 0 then 'never_purchased'
            when purchase_days_t12m >= {{ var('frequency_high_min_purchase_days') }} then 'high'
            when purchase_days_t12m >= {{ var('frequency_medium_min_purchase_days') }} then 'medium'
            else 'low'
        end as frequency_tier,
        first_purchase_date,
        last_purchase_date,
        days_since_first_purchase,
        days_since_last_purchase,
        last_reactivation_date,
        has_purchase_rhythm,
        median_interpurchase_days,
        case when purchase_days > 0 then at_risk_after_days end as at_risk_after_days,
        case
            when purchase_days = 0 then 'prospect'
            when days_since_last_purchase >= {{ var('lifecycle_churned_after_days') }} then 'churned'
            when days_since_reactivation <= {{ var('lifecycle_reactivated_window_days') }} then 'reactivated'
            when days_since_first_purchase <= {{ var('lifecycle_new_window_days') }} then 'new'
            when days_since_last_purchase > at_risk_after_days then 'at_risk'
            else 'active'
        end as lifecycle_stage,
        as_of_date

    from thresholds

)

select * from final
{%- endmacro %}
