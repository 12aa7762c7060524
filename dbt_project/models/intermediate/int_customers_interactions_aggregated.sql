{%- set as_of = as_of_date() -%}
{%- set recent_start = dbt.dateadd('day', -(var('activity_recent_window_days') | int), as_of) -%}

with

interactions as (

    select
        customer_record_key,
        occurred_at,
        interaction_type

    from {{ ref('stg_crm__interactions') }}
    where cast(occurred_at as date) <= {{ as_of }} and {{ known_at(as_of_end()) }}

),

customer_records as (

    select
        customer_record_key,
        customer_key

    from {{ ref('int_customer_records_resolved') }}

),

final as (

    select
        customer_records.customer_key,
        count(*) as interaction_count,
        count(case when cast(interactions.occurred_at as date) > {{ recent_start }} then 1 end)
            as interactions_recent_window,
        {%- for interaction_type in ['call', 'email', 'visit', 'meeting', 'wechat'] %}
        count(case when interactions.interaction_type = '{{ interaction_type }}' then 1 end)
            as {{ interaction_type }}_count,
        {%- endfor %}
        max(interactions.occurred_at) as last_interaction_at,
        {{ days_between('max(interactions.occurred_at)', as_of) }} as days_since_last_interaction,
        {{ as_of }} as as_of_date

    from interactions
    inner join customer_records
        on interactions.customer_record_key = customer_records.customer_record_key
    group by customer_records.customer_key

)

select * from final
