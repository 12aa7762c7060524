{{ config(
    materialized=delete_insert_materialization(),
    unique_key='survey_response_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

source as (

    {{ usable_raw_rows('surveys', [clean_text('ledger.source_profile'), clean_text('raw_rows.response_id')]) }}

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
        _accepted_seq as accepted_seq,
        _file_id as file_id,
        _source_row as source_row

    from source

),

versions as (

    {{ record_versions('renamed', ['source_profile', 'response_id'], ['customer_id', 'responded_at', 'nps_score', 'csat_score', 'response_comment']) }}

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
        version_number,
        version_time,
        valid_from,
        valid_to,
        loaded_at,
        accepted_seq,
        file_id,
        source_row

    from versions

)

select * from final
