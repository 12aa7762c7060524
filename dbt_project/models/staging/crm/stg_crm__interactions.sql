{%- set interaction_types = {
    'call': 'call', 'calls': 'call', 'phone': 'call', 'phone call': 'call', '电话': 'call',
    'email': 'email', 'emails': 'email', 'e-mail': 'email', 'mail': 'email', '邮件': 'email',
    'visit': 'visit', 'visits': 'visit', 'site visit': 'visit', '拜访': 'visit',
    'meeting': 'meeting', 'meetings': 'meeting', 'event': 'meeting', 'events': 'meeting', '会议': 'meeting',
    'wechat': 'wechat', 'weixin': 'wechat', '微信': 'wechat',
    'task': 'task', 'tasks': 'task',
} -%}

{{ config(
    materialized=delete_insert_materialization(),
    unique_key='interaction_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

source as (

    {{ usable_raw_rows('interactions', [clean_text('ledger.source_profile'), clean_text('raw_rows.interaction_id')]) }}

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
        _accepted_seq as accepted_seq,
        _file_id as file_id,
        _source_row as source_row

    from source

),

versions as (

    {{ record_versions('renamed', ['source_profile', 'interaction_id'], ['customer_id', 'occurred_at', 'interaction_type', 'channel']) }}

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
