{%- set ticket_statuses = {
    'open': 'open', 'new': 'open', '待处理': 'open',
    'pending': 'pending', 'in progress': 'pending', 'escalated': 'pending', 'on hold': 'pending',
    'waiting': 'pending', '处理中': 'pending',
    'resolved': 'resolved', 'solved': 'resolved', '已解决': 'resolved',
    'closed': 'closed', '已关闭': 'closed',
} -%}
{%- set ticket_priorities = {
    'low': 'low', '低': 'low',
    'medium': 'medium', 'normal': 'medium', '中': 'medium',
    'high': 'high', '高': 'high',
    'urgent': 'urgent', 'highest': 'urgent', 'critical': 'urgent', '紧急': 'urgent',
} -%}

{{ config(
    materialized=delete_insert_materialization(),
    unique_key='ticket_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

source as (

    {{ usable_raw_rows('tickets', [clean_text('ledger.source_profile'), clean_text('raw_rows.ticket_id')]) }}

),

renamed as (

    select
        {{ clean_text('_source_profile') }} as source_profile,
        {{ clean_text('ticket_id') }} as ticket_id,
        {{ clean_text('customer_id') }} as customer_id,
        opened_at,
        resolved_at,
        {{ map_values(
            'status', ticket_statuses,
            "case when resolved_at is null then 'open' else 'resolved' end"
        ) }} as ticket_status,
        {{ map_values('priority', ticket_priorities, "'unknown'", when_null='unknown') }} as ticket_priority,
        {{ clean_text('category') }} as ticket_category,
        _loaded_at as loaded_at,
        _accepted_seq as accepted_seq,
        _file_id as file_id,
        _source_row as source_row

    from source

),

versions as (

    {{ record_versions('renamed', ['source_profile', 'ticket_id'], ['customer_id', 'opened_at', 'resolved_at', 'ticket_status', 'ticket_priority', 'ticket_category']) }}

),

final as (

    select
        {{ dbt.concat(['source_profile', "':'", 'ticket_id']) }} as ticket_key,
        source_profile,
        ticket_id,
        {{ dbt.concat(['source_profile', "':'", 'customer_id']) }} as customer_record_key,
        customer_id,
        opened_at,
        resolved_at,
        ticket_status,
        ticket_status in ('open', 'pending') and resolved_at is null as is_unresolved,
        ticket_priority,
        ticket_category,
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
