{#- The in-run backtest of every purchase model: calibrated as of backtest_horizon_days before as_of, on the
    state known then, compared with what happened up to as_of (int_clv_purchase_models_backtested). -#}
with

backtest as (

    select * from {{ ref('int_clv_purchase_models_backtested') }}

),

final as (

    select
        cast({{ as_of_date() }} as date) as as_of_date,
        cast({{ backtest_calibration_date() }} as date) as calibration_date,
        cast({{ var('backtest_horizon_days') }} as integer) as horizon_days,
        cast(model as {{ dbt.type_string() }}) as model,  -- noqa: RF04
        cast(metric as {{ dbt.type_string() }}) as metric,
        cast(breakdown as {{ dbt.type_string() }}) as breakdown,
        cast(breakdown_value as {{ dbt.type_string() }}) as breakdown_value,
        cast(value as {{ type_double() }}) as value,  -- noqa: RF04
        cast(coalesce(model = chosen_model, false) as {{ dbt.type_boolean() }}) as is_chosen

    from backtest

)

select * from final
