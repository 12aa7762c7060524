{#- The calibration summary of the BG/NBD and Gamma-Gamma models (the `lifetimes` convention), in days,
    from purchase days on or before as_of. -#}
with

purchase_days as (

    select * from {{ ref('int_purchase_days_sequenced') }}

),

final as (

    select
        customer_key,
        count(*) - 1 as frequency,
        {{ days_between('min(purchase_date)', 'max(purchase_date)') }} as recency,
        {{ days_between('min(purchase_date)', as_of_date()) }} as t,
        cast(
            coalesce(avg(case when purchase_day_number > 1 then net_revenue end), 0) as {{ type_double() }}
        ) as monetary,
        cast(sum(net_revenue) as {{ type_money() }}) as historical_revenue,
        {{ as_of_date() }} as as_of_date

    from purchase_days
    group by customer_key

)

select * from final
