{{ config(
    materialized=staging_materialization(),
    unique_key='order_line_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

source as (

    select * from {{ source('crm', 'order_lines') }}
    {%- if is_incremental() %}
    where {{ versions_of_keys_loaded_since_last_build(source('crm', 'order_lines'), [
        clean_text('_source_profile'),
        clean_text('order_id'),
        'line_number',
    ]) }}
    {%- endif %}

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
        _source_file as source_file,
        _source_row as source_row

    from source

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by source_profile, order_id, line_number
            order by loaded_at desc nulls last, source_file desc, source_row desc
        ) as version_rank

    from renamed

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
        loaded_at,
        source_file,
        source_row

    from deduplicated
    where version_rank = 1

)

select * from final
