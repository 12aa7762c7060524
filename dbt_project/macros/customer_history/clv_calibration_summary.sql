{#- The calibration summary of the purchase and spend models (the `lifetimes` convention), in days, as of
    `as_of` (a SQL date expression), from the customers' sequenced `purchase_days` on or before it: one row per
    customer with frequency (purchase days after the first), recency (first to last purchase day), t (first
    purchase day to as_of), monetary (mean value of the repeat purchase days) and historical revenue. -#}
{% macro clv_calibration_summary(purchase_days, as_of) -%}
with

purchase_days as (

    select * from {{ purchase_days }}

),

final as (

    select
        customer_key,
        count(*) - 1 as frequency,
        {{ days_between('min(purchase_date)', 'max(purchase_date)') }} as recency,
        {{ days_between('min(purchase_date)', as_of) }} as t,
        cast(
            coalesce(avg(case when purchase_day_number > 1 then net_revenue end), 0) as {{ type_double() }}
        ) as monetary,
        cast(sum(net_revenue) as {{ type_money() }}) as historical_revenue,
        {{ as_of }} as as_of_date

    from purchase_days
    group by customer_key

)

select * from final
{%- endmacro %}
