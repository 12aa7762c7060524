{%- set interaction_types = {
    'call': 'call', 'calls': 'call', 'phone': 'call', 'phone call': 'call', '电话': 'call',
    'email': 'email', 'emails': 'email', 'e-mail': 'email', 'mail': 'email', '邮件': 'email',
    'visit': 'visit', 'visits': 'visit', 'site visit': 'visit', '拜访': 'visit',
    'meeting': 'meeting', 'meetings': 'meeting', 'event': 'meeting', 'events': 'meeting', '会议': 'meeting',
    'wechat': 'wechat', 'weixin': 'wechat', '微信': 'wechat',
    'task': 'task', 'tasks': 'task',
} -%}

{{ config(
    materialized=staging_materialization(),
    unique_key='interaction_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

source as (

    select * from {{ source('crm', 'interactions') }}
    {%- if is_incremental() %}
    where {{ versions_of_keys_loaded_since_last_build(source('crm', 'interactions'), [
        clean_text('_source_profile'),
        clean_text('interaction_id'),
    ]) }}
    {%- endif %}

),

renamed as (

    select
        {{ clean_text('_source_profile') }} as source_profile,
        {{ clean_text('interaction_id') }} as interaction_id,
        {{ clean_text('customer_id') }} as customer_id,
        occurred_at,
        {{ map_values('interaction_type', interaction_types, "'other'", when_null='other') }} as interaction_type,
        {{ clean_code('channel') }} as channel,
        _loaded_at as loaded_at,
        _source_file as source_file,
        _source_row as source_row

    from source

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by source_profile, interaction_id
            order by loaded_at desc nulls last, source_file desc, source_row desc
        ) as version_rank

    from renamed

),

final as (

    select
        {{ dbt.concat(['source_profile', "':'", 'interaction_id']) }} as interaction_key,
        source_profile,
        interaction_id,
        {{ dbt.concat(['source_profile', "':'", 'customer_id']) }} as customer_record_key,
        customer_id,
        occurred_at,
        interaction_type,
        channel,
        loaded_at,
        source_file,
        source_row

    from deduplicated
    where version_rank = 1

)

select * from final
