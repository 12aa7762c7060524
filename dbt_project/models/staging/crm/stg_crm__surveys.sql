{{ config(
    materialized=staging_materialization(),
    unique_key='survey_response_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

source as (

    select * from {{ source('crm', 'surveys') }}
    {%- if is_incremental() %}
    where {{ versions_of_keys_loaded_since_last_build(source('crm', 'surveys'), [
        clean_text('_source_profile'),
        clean_text('response_id'),
    ]) }}
    {%- endif %}

),

renamed as (

    select
        {{ clean_text('_source_profile') }} as source_profile,
        {{ clean_text('response_id') }} as response_id,
        {{ clean_text('customer_id') }} as customer_id,
        responded_at,
        case when nps_score between 0 and 10 then nps_score end as nps_score,
        case when csat_score between 1 and 5 then csat_score end as csat_score,
        {{ clean_text('comment') }} as response_comment,
        _loaded_at as loaded_at,
        _source_file as source_file,
        _source_row as source_row

    from source

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by source_profile, response_id
            order by loaded_at desc nulls last, source_file desc, source_row desc
        ) as version_rank

    from renamed

),

final as (

    select
        {{ dbt.concat(['source_profile', "':'", 'response_id']) }} as survey_response_key,
        source_profile,
        response_id,
        {{ dbt.concat(['source_profile', "':'", 'customer_id']) }} as customer_record_key,
        customer_id,
        responded_at,
        nps_score,
        csat_score,
        case
            when nps_score >= 9 then 'promoter'
            when nps_score >= 7 then 'passive'
            when nps_score >= 0 then 'detractor'
        end as nps_class,
        response_comment,
        loaded_at,
        source_file,
        source_row

    from deduplicated
    where version_rank = 1

)

select * from final
