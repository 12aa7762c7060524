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
    materialized=staging_materialization(),
    unique_key='ticket_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

source as (

    select * from {{ source('crm', 'tickets') }}
    {%- if is_incremental() %}
    where {{ versions_of_keys_loaded_since_last_build(source('crm', 'tickets'), [
        clean_text('_source_profile'),
        clean_text('ticket_id'),
    ]) }}
    {%- endif %}

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
        _source_file as source_file,
        _source_row as source_row

    from source

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by source_profile, ticket_id
            order by loaded_at desc nulls last, source_file desc, source_row desc
        ) as version_rank

    from renamed

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
        loaded_at,
        source_file,
        source_row

    from deduplicated
    where version_rank = 1

)

select * from final
