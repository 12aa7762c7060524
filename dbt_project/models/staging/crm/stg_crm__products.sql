with

source as (

    {{ usable_raw_rows('products', [clean_text('ledger.source_profile'), clean_text('raw_rows.product_id')]) }}

),

renamed as (

    select
        {{ clean_text('_source_profile') }} as source_profile,
        {{ clean_text('product_id') }} as product_id,
        {{ clean_text('product_name') }} as product_name,
        {{ clean_text('category') }} as product_category,
        list_price,
        _loaded_at as loaded_at,
        _accepted_seq as accepted_seq,
        _file_id as file_id,
        _source_row as source_row

    from source

),

versions as (

    {{ record_versions('renamed', ['source_profile', 'product_id'], ['product_name', 'product_category', 'list_price']) }}

),

final as (

    select
        {{ dbt.concat(['source_profile', "':'", 'product_id']) }} as product_key,
        source_profile,
        product_id,
        product_name,
        product_category,
        list_price,
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
