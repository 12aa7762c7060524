{{ config(
    materialized=delete_insert_materialization(),
    unique_key='order_line_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

source as (

    {{ usable_raw_rows('order_lines', [clean_text('ledger.source_profile'), clean_text('raw_rows.order_id'), 'raw_rows.line_number']) }}

),

renamed as (

    select
        {{ clean_text('_source_profile') }} as source_profile,
        {{ clean_text('order_id') }} as order_id,
        line_number,
        {{ clean_text('product_id') }} as product_id,
        quantity,
        unit_price as unit_price_in_order_currency,
        line_amount as line_amount_in_order_currency,
        _loaded_at as loaded_at,
        _accepted_seq as accepted_seq,
        _file_id as file_id,
        _source_row as source_row

    from source

),

versions as (

    {{ record_versions('renamed', ['source_profile', 'order_id', 'line_number'], ['product_id', 'quantity', 'unit_price_in_order_currency', 'line_amount_in_order_currency']) }}

),

final as (

    select
        {{ dbt.concat(['source_profile', "':'", 'order_id', "':'", dbt.safe_cast('line_number', dbt.type_string())]) }}
            as order_line_key,
        source_profile,
        {{ dbt.concat(['source_profile', "':'", 'order_id']) }} as order_key,
        order_id,
        line_number,
        case
            when product_id is not null then {{ dbt.concat(['source_profile', "':'", 'product_id']) }}
        end as product_key,
        product_id,
        quantity,
        unit_price_in_order_currency,
        line_amount_in_order_currency,
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
