{#- Attributes come from the primary record (the most recently updated source record of the customer). -#}
with

customer_records as (

    select * from {{ ref('int_customer_records_resolved') }}

),

source_customers as (

    select * from {{ ref('stg_crm__customers') }}
    where {{ known_at(as_of_end()) }}

),

purchases as (

    select * from {{ ref('int_customers_purchases_aggregated') }}

),

primary_records as (

    select
        source_customers.*,
        customer_records.customer_key,
        customer_records.records_in_customer

    from customer_records
    inner join source_customers
        on customer_records.customer_record_key = source_customers.customer_record_key
    where customer_records.is_primary_record

),

first_created as (

    select
        customer_records.customer_key,
        min(source_customers.created_at) as created_at

    from customer_records
    inner join source_customers
        on customer_records.customer_record_key = source_customers.customer_record_key
    group by customer_records.customer_key

),

final as (

    select
        cast(primary_records.customer_key as {{ dbt.type_string() }}) as customer_key,
        cast(primary_records.source_profile as {{ dbt.type_string() }}) as primary_source_profile,
        cast(primary_records.customer_id as {{ dbt.type_string() }}) as primary_customer_id,
        cast(primary_records.records_in_customer as {{ dbt.type_bigint() }}) as source_record_count,
        cast(primary_records.customer_name as {{ dbt.type_string() }}) as customer_name,
        cast(primary_records.customer_type as {{ dbt.type_string() }}) as customer_type,
        cast(primary_records.email as {{ dbt.type_string() }}) as email,
        cast(primary_records.phone as {{ dbt.type_string() }}) as phone,
        cast(primary_records.country_code as {{ dbt.type_string() }}) as country_code,
        cast(primary_records.country as {{ dbt.type_string() }}) as country,
        cast(primary_records.province as {{ dbt.type_string() }}) as province,
        cast(primary_records.city as {{ dbt.type_string() }}) as city,
        cast(primary_records.city_tier as {{ dbt.type_string() }}) as city_tier,
        cast(primary_records.region as {{ dbt.type_string() }}) as region,
        cast(primary_records.region_class as {{ dbt.type_string() }}) as region_class,
        cast(primary_records.market_class as {{ dbt.type_string() }}) as market_class,
        cast(primary_records.industry as {{ dbt.type_string() }}) as industry,
        cast(primary_records.owner as {{ dbt.type_string() }}) as owner,
        cast(primary_records.lead_source as {{ dbt.type_string() }}) as lead_source,
        cast(first_created.created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(purchases.first_order_date as date) as first_order_date,
        cast(purchases.first_purchase_date as date) as first_purchase_date,
        cast(purchases.last_purchase_date as date) as last_purchase_date,
        cast(purchases.order_count as {{ dbt.type_bigint() }}) as order_count,
        cast(purchases.completed_order_count as {{ dbt.type_bigint() }}) as completed_order_count,
        cast(purchases.purchase_days as {{ dbt.type_bigint() }}) as purchase_days,
        cast(purchases.purchase_days_t12m as {{ dbt.type_bigint() }}) as purchase_days_t12m,
        cast(purchases.lifetime_net_revenue as {{ type_money() }}) as lifetime_net_revenue,
        cast(purchases.trailing_12m_net_revenue as {{ type_money() }}) as trailing_12m_net_revenue,
        cast(purchases.as_of_date as date) as as_of_date

    from primary_records
    inner join first_created
        on primary_records.customer_key = first_created.customer_key
    inner join purchases
        on primary_records.customer_key = purchases.customer_key

)

select * from final
