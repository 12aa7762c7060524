{%- set order_statuses = {
    'completed': 'completed', 'complete': 'completed', 'closed': 'completed', 'delivered': 'completed',
    'paid': 'completed', 'shipped': 'completed', 'fulfilled': 'completed', 'won': 'completed',
    '已完成': 'completed',
    'cancelled': 'cancelled', 'canceled': 'cancelled', 'void': 'cancelled', 'voided': 'cancelled',
    '已取消': 'cancelled',
    'refunded': 'refunded', 'refund': 'refunded', 'returned': 'refunded', '已退款': 'refunded',
} -%}

{{ config(
    materialized=delete_insert_materialization(),
    unique_key='order_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

source as (

    {{ usable_raw_rows('orders', [clean_text('ledger.source_profile'), clean_text('raw_rows.order_id')]) }}

),

renamed as (

    select
        {{ clean_text('_source_profile') }} as source_profile,
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('customer_id') }} as customer_id,
        order_date,
        ordered_at,
        amount as amount_in_order_currency,
        coalesce(upper({{ clean_text('currency') }}), '{{ var("default_order_currency") }}') as currency,
        {{ map_values('status', order_statuses, "'unknown'", when_null='completed') }} as order_status,
        {{ clean_code('channel') }} as channel,
        updated_at,
        _loaded_at as loaded_at,
        _accepted_seq as accepted_seq,
        _file_id as file_id,
        _source_row as source_row

    from source

),

versions as (

    {{ record_versions(
        'renamed',
        ['source_profile', 'order_id'],
        ['customer_id', 'order_date', 'ordered_at', 'amount_in_order_currency', 'currency', 'order_status', 'channel'],
        updated_at='updated_at',
    ) }}

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
        {{ dbt.concat(['versions.source_profile', "':'", 'versions.order_id']) }} as order_key,
        versions.source_profile,
        versions.order_id,
        {{ dbt.concat(['versions.source_profile', "':'", 'versions.customer_id']) }}
            as customer_record_key,
        versions.customer_id,
        versions.order_date,
        versions.ordered_at,
        versions.order_status,
        versions.order_status = 'completed' as is_completed,
        versions.currency,
        versions.amount_in_order_currency,
        {#- computed wide: a plausible amount times a rate must not overflow the money type #}
        cast(
            round(
                cast(versions.amount_in_order_currency as decimal(38, 6))
                * cast(order_rate.rate_to_usd as decimal(38, 10))
                / cast(reporting_rate.rate_to_usd as decimal(38, 10)),
                2
            )
            as {{ type_money() }}
        ) as amount,
        versions.channel,
        versions.updated_at,
        versions.version_number,
        versions.version_time,
        versions.valid_from,
        versions.valid_to,
        versions.loaded_at,
        versions.accepted_seq,
        versions.file_id,
        versions.source_row

    from versions
    left join fx_rates as order_rate
        on versions.currency = order_rate.currency
    left join reporting_rate
        on 1 = 1

)

select * from final
