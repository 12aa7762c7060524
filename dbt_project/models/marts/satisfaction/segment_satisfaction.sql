{#- NPS per segment from each customer's latest answer in the satisfaction window (one vote per
    customer): NPS = 100 x (promoters - detractors) / respondents, null below nps_min_responses. -#}
with

segments as (

    select * from {{ ref('customer_segments') }}

),

satisfaction as (

    select * from {{ ref('customer_satisfaction') }}

),

segment_members as (
    {{ unpivot_segments('segments', segment_dimensions()) }}
),

aggregated as (

    select
        segment_members.segment_dimension,
        segment_members.segment_value,
        count(*) as customer_count,
        count(satisfaction.latest_nps_score) as nps_respondent_count,
        count(case when satisfaction.nps_class = 'promoter' then 1 end) as promoter_count,
        count(case when satisfaction.nps_class = 'passive' then 1 end) as passive_count,
        count(case when satisfaction.nps_class = 'detractor' then 1 end) as detractor_count,
        count(satisfaction.latest_csat_score) as csat_respondent_count,
        avg(satisfaction.latest_csat_score) as csat_mean

    from segment_members
    left join satisfaction
        on segment_members.customer_key = satisfaction.customer_key
    group by segment_members.segment_dimension, segment_members.segment_value

),

final as (

    select
        cast(segment_dimension as {{ dbt.type_string() }}) as segment_dimension,
        cast(segment_value as {{ dbt.type_string() }}) as segment_value,
        cast(customer_count as {{ dbt.type_bigint() }}) as customer_count,
        cast(nps_respondent_count as {{ dbt.type_bigint() }}) as nps_respondent_count,
        cast(promoter_count as {{ dbt.type_bigint() }}) as promoter_count,
        cast(passive_count as {{ dbt.type_bigint() }}) as passive_count,
        cast(detractor_count as {{ dbt.type_bigint() }}) as detractor_count,
        cast(promoter_count * 1.0 / nullif(nps_respondent_count, 0) as {{ type_double() }}) as promoter_share,
        cast(detractor_count * 1.0 / nullif(nps_respondent_count, 0) as {{ type_double() }}) as detractor_share,
        cast(
            case
                when nps_respondent_count >= {{ var('nps_min_responses') }}
                    then 100.0 * (promoter_count - detractor_count) / nps_respondent_count
            end as {{ type_double() }}
        ) as nps,
        cast(csat_respondent_count as {{ dbt.type_bigint() }}) as csat_respondent_count,
        cast(csat_mean as {{ type_double() }}) as csat_mean,
        cast({{ as_of_date() }} as date) as as_of_date

    from aggregated

)

select * from final
