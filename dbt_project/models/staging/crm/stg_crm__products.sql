with

source as (

    select * from {{ source('crm', 'products') }}

),

renamed as (

    select
        {{ clean_text('_source_profile') }} as source_profile,
        {{ clean_text('product_id') }} as product_id,
        {{ clean_text('product_name') }} as product_name,
        {{ clean_text('category') }} as product_category,
        list_price,
        _loaded_at as loaded_at,
        _source_file as source_file,
        _source_row as source_row

    from source

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by source_profile, product_id
            order by loaded_at desc nulls last, source_file desc, source_row desc
        ) as version_rank

    from renamed

),

final as (

    select
        {{ dbt.concat(['source_profile', "':'", 'product_id']) }} as product_key,
        source_profile,
        product_id,
        product_name,
        product_category,
        list_price,
        loaded_at,
        source_file,
        source_row

    from deduplicated
    where version_rank = 1

)

select * from final
