with

scores as (

    select * from {{ ref('int_customers_clv_scored') }}

),

renamed as (

    select
        cast(customer_key as {{ dbt.type_string() }}) as customer_key,
        cast(as_of_date as date) as as_of_date,
        cast(frequency as integer) as frequency,
        cast(recency as integer) as recency,
        cast(t as integer) as t,
        cast(monetary as {{ type_money() }}) as monetary,
        cast(p_alive as {{ type_double() }}) as p_alive,
        cast(expected_purchases_30d as {{ type_double() }}) as expected_purchases_30d,
        cast(expected_purchases_90d as {{ type_double() }}) as expected_purchases_90d,
        cast(expected_purchases_365d as {{ type_double() }}) as expected_purchases_365d,
        cast(expected_avg_order_value as {{ type_money() }}) as expected_avg_order_value,
        cast(clv as {{ type_money() }}) as clv,
        cast(clv_tier as {{ dbt.type_string() }}) as clv_tier,
        cast(clv_method as {{ dbt.type_string() }}) as clv_method,
        cast(churn_probability as {{ type_double() }}) as churn_probability,
        cast(churn_method as {{ dbt.type_string() }}) as churn_method

    from scores

)

select * from renamed
