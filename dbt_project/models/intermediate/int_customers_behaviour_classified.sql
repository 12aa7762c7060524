{#- How each customer behaves, from the classification window (the classification_window_days days ending on
    as_of): engagement (interactions) and the preferred contact channel, and when they buy (completed orders:
    weekday or weekend from order_date; time of day from ordered_at, where exported, on the clock of var
    home_time_zone: ingest stores timestamps in UTC, and a customer's own time zone is not known). -#}
{%- set as_of = as_of_date() -%}
{%- set window_start = dbt.dateadd('day', -(var('classification_window_days') | int), as_of) -%}
{%- set contact_types = ['call', 'email', 'visit', 'meeting', 'wechat'] -%}
{%- set slot_starts = var('purchase_time_of_day_start_hours') -%}
{%- set slots = slot_starts | dictsort(by='value') -%}

with

customers as (

    select distinct customer_key

    from {{ ref('int_customer_records_resolved') }}

),

customer_records as (

    select
        customer_record_key,
        customer_key

    from {{ ref('int_customer_records_resolved') }}

),

interactions as (

    select
        customer_records.customer_key,
        interactions.interaction_key,
        interactions.occurred_at,
        interactions.interaction_type

    from {{ ref('stg_crm__interactions') }} as interactions
    inner join customer_records
        on interactions.customer_record_key = customer_records.customer_record_key
    where
        cast(interactions.occurred_at as date) <= {{ as_of }}
        and cast(interactions.occurred_at as date) > {{ window_start }}
        and {{ known_at(as_of_end(), 'interactions') }}

),

engagement as (

    select
        customer_key,
        count(*) as interactions_in_window

    from interactions
    group by customer_key

),

channels as (

    {#- The contact type used most in the window (tasks and unrecognised types are no channel); on a tie the
        one used last, then by name. #}
    select
        customer_key,
        interaction_type as preferred_channel

    from (
        select
            customer_key,
            interaction_type,
            row_number() over (
                partition by customer_key order by count(*) desc, max(occurred_at) desc, interaction_type asc
            ) as channel_rank

        from interactions
        where interaction_type in ({{ quoted_list(contact_types) }})
        group by customer_key, interaction_type
    ) as ranked
    where channel_rank = 1

),

orders as (

    select
        customer_key,
        {{ is_weekend('order_date') }} as is_weekend,
        extract(hour from {{ utc_to_local('ordered_at', var('home_time_zone')) }}) as local_hour

    from {{ ref('int_orders_resolved') }}
    where is_completed and order_date > {{ window_start }}

),

timed_orders as (

    select
        customer_key,
        is_weekend,
        case
            {%- for slot, start in slots %}
            {%- if not loop.last %}
            when local_hour >= {{ start }}
                and local_hour < {{ slots[loop.index0 + 1][1] }} then '{{ slot }}'
            {%- endif %}
            {%- endfor %}
            when local_hour is not null then '{{ slots[-1][0] }}'
        end as time_of_day

    from orders

),

order_times as (

    select
        customer_key,
        count(*) as orders_in_window,
        count(case when is_weekend then 1 end) as weekend_orders_in_window,
        {%- for slot, start in slots %}
        count(case when time_of_day = '{{ slot }}' then 1 end) as {{ slot }}_orders_in_window,
        {%- endfor %}
        count(time_of_day) as timed_orders_in_window

    from timed_orders
    group by customer_key

),

combined as (

    select
        customers.customer_key,
        coalesce(engagement.interactions_in_window, 0) as interactions_in_window,
        channels.preferred_channel,
        coalesce(order_times.orders_in_window, 0) as orders_in_window,
        coalesce(order_times.weekend_orders_in_window, 0) as weekend_orders_in_window,
        {%- for slot, start in slots %}
        coalesce(order_times.{{ slot }}_orders_in_window, 0) as {{ slot }}_orders_in_window,
        {%- endfor %}
        coalesce(order_times.timed_orders_in_window, 0) as timed_orders_in_window

    from customers
    left join engagement
        on customers.customer_key = engagement.customer_key
    left join channels
        on customers.customer_key = channels.customer_key
    left join order_times
        on customers.customer_key = order_times.customer_key

),

final as (

    select
        customer_key,
        interactions_in_window,
        case
            when interactions_in_window >= {{ var('engagement_a_min_interactions') }} then 'A'
            when interactions_in_window >= {{ var('engagement_b_min_interactions') }} then 'B'
            when interactions_in_window > 0 then 'C'
            else 'none'
        end as engagement_tier,
        coalesce(preferred_channel, 'none') as preferred_channel,
        orders_in_window,
        cast(weekend_orders_in_window * 1.0 / nullif(orders_in_window, 0) as {{ type_double() }})
            as weekend_order_share,
        case
            when orders_in_window < {{ var('purchase_pattern_min_orders') }} then 'unknown'
            when weekend_orders_in_window >= {{ var('purchase_weekend_min_share') }} * orders_in_window
                then 'weekend'
            when weekend_orders_in_window <= {{ var('purchase_weekday_max_weekend_share') }} * orders_in_window
                then 'weekday'
            else 'mixed'
        end as purchase_time_pattern,
        case
            when timed_orders_in_window < {{ var('purchase_pattern_min_orders') }} then 'unknown'
            {%- for slot, start in slots %}
            when {{ slot }}_orders_in_window
                >= {{ var('purchase_time_of_day_min_share') }} * timed_orders_in_window then '{{ slot }}'
            {%- endfor %}
            else 'mixed'
        end as purchase_time_of_day,
        {{ as_of }} as as_of_date

    from combined

)

select * from final
