{#- R, F and M scores are quintiles of the percent rank among purchasers: score = 1 + floor(5 x
    percent_rank), capped at 5, so ties share a score and the best fifth scores 5. Recency ranks the most
    recent purchase highest. The segment comes from the editable grid seed rfm_segment_map by recency score
    and FM score = ceil((F + M) / 2). -#}
with

purchasers as (

    select
        customer_key,
        days_since_last_purchase as recency_days,
        purchase_days as frequency,
        lifetime_net_revenue as monetary,
        as_of_date

    from {{ ref('int_customers_purchases_aggregated') }}
    where purchase_days > 0

),

segment_map as (

    select * from {{ ref('rfm_segment_map') }}

),

scored as (

    select
        *,
        cast(least(5, 1 + floor(5 * percent_rank() over (order by recency_days desc))) as {{ dbt.type_int() }})
            as r_score,
        cast(least(5, 1 + floor(5 * percent_rank() over (order by frequency asc))) as {{ dbt.type_int() }})
            as f_score,
        cast(least(5, 1 + floor(5 * percent_rank() over (order by monetary asc))) as {{ dbt.type_int() }})
            as m_score

    from purchasers

),

final as (

    select
        cast(scored.customer_key as {{ dbt.type_string() }}) as customer_key,
        cast(scored.recency_days as {{ dbt.type_bigint() }}) as recency_days,
        cast(scored.frequency as {{ dbt.type_bigint() }}) as frequency,
        cast(scored.monetary as {{ type_money() }}) as monetary,
        cast(scored.r_score as {{ dbt.type_int() }}) as r_score,
        cast(scored.f_score as {{ dbt.type_int() }}) as f_score,
        cast(scored.m_score as {{ dbt.type_int() }}) as m_score,
        cast(ceil((scored.f_score + scored.m_score) / 2.0) as {{ dbt.type_int() }}) as fm_score,
        cast(
            {{ dbt.concat([
                dbt.safe_cast('scored.r_score', dbt.type_string()),
                dbt.safe_cast('scored.f_score', dbt.type_string()),
                dbt.safe_cast('scored.m_score', dbt.type_string()),
            ]) }} as {{ dbt.type_string() }}
        ) as rfm_score,
        cast(segment_map.rfm_segment as {{ dbt.type_string() }}) as rfm_segment,
        cast(scored.as_of_date as date) as as_of_date

    from scored
    left join segment_map
        on
            scored.r_score = segment_map.r_score
            and cast(ceil((scored.f_score + scored.m_score) / 2.0) as {{ dbt.type_int() }}) = segment_map.fm_score

)

select * from final
