{#- Each as-of date's segment assignments, appended; re-running a date replaces that date only. A full refresh
    leaves the history alone. -#}
{{ config(
    materialized='incremental',
    incremental_strategy=replace_by_key_strategy(),
    unique_key='as_of_date',
    partition_by=replace_by_key_partitions('as_of_date'),
    on_schema_change='append_new_columns',
    full_refresh=false,
) }}

with

segments as (

    select * from {{ ref('customer_segments') }}

),

final as (

    select
        cast(customer_key as {{ dbt.type_string() }}) as customer_key,
        cast(as_of_date as date) as as_of_date,
        cast(value_tier as {{ dbt.type_string() }}) as value_tier,
        cast(lifecycle_stage as {{ dbt.type_string() }}) as lifecycle_stage,
        cast(coalesce(rfm_segment, 'none') as {{ dbt.type_string() }}) as rfm_segment,
        cast(frequency_tier as {{ dbt.type_string() }}) as frequency_tier,
        cast(clv_tier as {{ dbt.type_string() }}) as clv_tier,
        {%- for column in [
            'product_demand_tier', 'service_demand_tier', 'price_demand_tier', 'engagement_tier',
            'preferred_channel', 'purchase_time_pattern', 'purchase_time_of_day', 'abc_class',
        ] %}
        cast({{ column }} as {{ dbt.type_string() }}) as {{ column }},
        {%- endfor %}
        cast(is_potential as {{ dbt.type_boolean() }}) as is_potential,
        cast(trailing_12m_net_revenue as {{ type_money() }}) as trailing_12m_net_revenue

    from segments

)

select * from final
