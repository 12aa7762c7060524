with

customer_records as (

    select * from {{ ref('int_customer_records_resolved') }}

),

final as (

    select
        cast(customer_record_key as {{ dbt.type_string() }}) as customer_record_key,
        cast(source_profile as {{ dbt.type_string() }}) as source_profile,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(customer_key as {{ dbt.type_string() }}) as customer_key,
        cast(is_primary_record as {{ dbt.type_boolean() }}) as is_primary_record,
        cast(records_in_customer as {{ dbt.type_bigint() }}) as records_in_customer

    from customer_records

)

select * from final
