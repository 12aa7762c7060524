{%- set order_statuses = {
    'completed': 'completed', 'complete': 'completed', 'closed': 'completed', 'delivered': 'completed',
    'paid': 'completed', 'shipped': 'completed', 'fulfilled': 'completed', 'won': 'completed',
    '已完成': 'completed',
    'cancelled': 'cancelled', 'canceled': 'cancelled', 'void': 'cancelled', 'voided': 'cancelled',
    '已取消': 'cancelled',
    'refunded': 'refunded', 'refund': 'refunded', 'returned': 'refunded', '已退款': 'refunded',
} -%}

{{ config(
    materialized=staging_materialization(),
    unique_key='order_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

source as (

    select * from {{ source('crm', 'orders') }}
    {%- if is_incremental() %}
    where {{ versions_of_keys_loaded_since_last_build(source('crm', 'orders'), [
        clean_text('_source_profile'),
        clean_text('order_id'),
    ]) }}
    {%- endif %}

),

renamed as (

    select
        {{ clean_text('_source_profile') }} as source_profile,
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('customer_id') }} as customer_id,
        order_date,
        amount as amount_in_order_currency,
        coalesce(upper({{ clean_text('currency') }}), '{{ var("default_order_currency") }}') as currency,
        {{ map_values('status', order_statuses, "'unknown'", when_null='completed') }} as order_status,
        {{ clean_code('channel') }} as channel,
        updated_at,
        _loaded_at as loaded_at,
        _source_file as source_file,
        _source_row as source_row

    from source

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by source_profile, order_id
            order by updated_at desc nulls last, loaded_at desc nulls last, source_file desc, source_row desc
        ) as version_rank

    from renamed

),

fx_rates as (

    select
        rate_to_usd,
        upper(trim(currency)) as currency

    from {{ ref('fx_rates') }}

),

reporting_rate as (

    select rate_to_usd

    from fx_rates
    where currency = upper('{{ var("reporting_currency") }}')

),

final as (

    select
        {{ dbt.concat(['deduplicated.source_profile', "':'", 'deduplicated.order_id']) }} as order_key,
        deduplicated.source_profile,
        deduplicated.order_id,
        {{ dbt.concat(['deduplicated.source_profile', "':'", 'deduplicated.customer_id']) }}
            as customer_record_key,
        deduplicated.customer_id,
        deduplicated.order_date,
        deduplicated.order_status,
        deduplicated.order_status = 'completed' as is_completed,
        deduplicated.currency,
        deduplicated.amount_in_order_currency,
        cast(
            round(deduplicated.amount_in_order_currency * order_rate.rate_to_usd / reporting_rate.rate_to_usd, 2)
            as {{ type_money() }}
        ) as amount,
        deduplicated.channel,
        deduplicated.updated_at,
        deduplicated.loaded_at,
        deduplicated.source_file,
        deduplicated.source_row

    from deduplicated
    left join fx_rates as order_rate
        on deduplicated.currency = order_rate.currency
    left join reporting_rate
        on 1 = 1
    where deduplicated.version_rank = 1

)

select * from final
