with

surveys as (

    select * from {{ ref('int_customers_surveys_summarized') }}

),

final as (

    select
        cast(customer_key as {{ dbt.type_string() }}) as customer_key,
        cast(latest_nps_score as {{ dbt.type_int() }}) as latest_nps_score,
        cast(latest_nps_responded_at as {{ dbt.type_timestamp() }}) as latest_nps_responded_at,
        cast(
            case
                when latest_nps_score >= 9 then 'promoter'
                when latest_nps_score >= 7 then 'passive'
                when latest_nps_score >= 0 then 'detractor'
            end as {{ dbt.type_string() }}
        ) as nps_class,
        cast(latest_csat_score as {{ dbt.type_int() }}) as latest_csat_score,
        cast(latest_csat_responded_at as {{ dbt.type_timestamp() }}) as latest_csat_responded_at,
        cast(response_count as {{ dbt.type_bigint() }}) as response_count,
        cast(nps_response_count as {{ dbt.type_bigint() }}) as nps_response_count,
        cast(csat_response_count as {{ dbt.type_bigint() }}) as csat_response_count,
        cast(as_of_date as date) as as_of_date

    from surveys

)

select * from final
