{#- Latest NPS and CSAT answers per customer among responses in the satisfaction window
    (as_of - satisfaction_window_days, as_of]. -#}
{%- set as_of = as_of_date() -%}

with

responses as (

    select
        survey_response_key,
        customer_record_key,
        responded_at,
        nps_score,
        csat_score

    from {{ ref('stg_crm__surveys') }}
    where
        cast(responded_at as date) <= {{ as_of }}
        and cast(responded_at as date) > {{ dbt.dateadd('day', -(var('satisfaction_window_days') | int), as_of) }}
        and {{ known_at(as_of_end()) }}

),

customer_records as (

    select
        customer_record_key,
        customer_key

    from {{ ref('int_customer_records_resolved') }}

),

attributed as (

    select
        responses.*,
        customer_records.customer_key

    from responses
    inner join customer_records
        on responses.customer_record_key = customer_records.customer_record_key

),

ranked as (

    {#- rank 1 = the latest response that answered the question #}
    select
        *,
        row_number() over (
            partition by customer_key, nps_score is null
            order by responded_at desc, survey_response_key desc
        ) as nps_recency_rank,
        row_number() over (
            partition by customer_key, csat_score is null
            order by responded_at desc, survey_response_key desc
        ) as csat_recency_rank

    from attributed

),

final as (

    select
        customer_key,
        count(*) as response_count,
        count(nps_score) as nps_response_count,
        count(csat_score) as csat_response_count,
        max(case when nps_recency_rank = 1 and nps_score is not null then nps_score end) as latest_nps_score,
        max(case when nps_recency_rank = 1 and nps_score is not null then responded_at end)
            as latest_nps_responded_at,
        max(case when csat_recency_rank = 1 and csat_score is not null then csat_score end) as latest_csat_score,
        max(case when csat_recency_rank = 1 and csat_score is not null then responded_at end)
            as latest_csat_responded_at,
        {{ as_of }} as as_of_date

    from ranked
    group by customer_key

)

select * from final
