with

fits as (

    select * from {{ ref('int_clv_models_fitted') }}

),

renamed as (

    select
        cast(as_of_date as date) as as_of_date,
        cast(model as {{ dbt.type_string() }}) as model,  -- noqa: RF04
        cast(parameter as {{ dbt.type_string() }}) as parameter,
        cast(value as {{ type_double() }}) as value,  -- noqa: RF04
        cast(log_likelihood as {{ type_double() }}) as log_likelihood,
        cast(n_customers as bigint) as n_customers,
        cast(converged as boolean) as converged,
        cast(used_for_scoring as boolean) as used_for_scoring,
        cast(selection_reason as {{ dbt.type_string() }}) as selection_reason,
        cast(fitted_at as timestamp) as fitted_at

    from fits

)

select * from renamed
