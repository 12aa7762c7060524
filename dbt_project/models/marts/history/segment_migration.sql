{#- Movements between consecutive as-of dates of the history, per segment dimension (value tier,
    lifecycle stage, RFM segment); revenue = trailing-12-month net revenue at the later date. Customers new
    at the later date come from absent; customers missing from it go to absent. -#}
with

history as (

    select * from {{ ref('customer_segments_history') }}

),

dates as (

    select
        as_of_date,
        lag(as_of_date) over (order by as_of_date) as previous_as_of_date

    from (select distinct as_of_date from history) as distinct_dates

),

pairs as (

    select
        dates.previous_as_of_date as from_as_of_date,
        dates.as_of_date as to_as_of_date

    from dates
    where dates.previous_as_of_date is not null

),

long_history as (

    {% for dimension in ['value_tier', 'lifecycle_stage', 'rfm_segment'] %}
    select
        customer_key,
        as_of_date,
        trailing_12m_net_revenue,
        '{{ dimension }}' as segment_dimension,
        {{ dimension }} as segment_value
    from history
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

before_move as (

    select
        pairs.from_as_of_date,
        pairs.to_as_of_date,
        long_history.customer_key,
        long_history.segment_dimension,
        long_history.segment_value

    from pairs
    inner join long_history
        on pairs.from_as_of_date = long_history.as_of_date

),

after_move as (

    select
        pairs.from_as_of_date,
        pairs.to_as_of_date,
        long_history.customer_key,
        long_history.segment_dimension,
        long_history.segment_value,
        long_history.trailing_12m_net_revenue

    from pairs
    inner join long_history
        on pairs.to_as_of_date = long_history.as_of_date

),

moves as (

    select
        coalesce(before_move.from_as_of_date, after_move.from_as_of_date) as from_as_of_date,
        coalesce(before_move.to_as_of_date, after_move.to_as_of_date) as to_as_of_date,
        coalesce(before_move.segment_dimension, after_move.segment_dimension) as segment_dimension,
        coalesce(before_move.segment_value, 'absent') as from_segment,
        coalesce(after_move.segment_value, 'absent') as to_segment,
        coalesce(after_move.trailing_12m_net_revenue, 0) as revenue

    from before_move
    full outer join after_move
        on
            before_move.from_as_of_date = after_move.from_as_of_date
            and before_move.customer_key = after_move.customer_key
            and before_move.segment_dimension = after_move.segment_dimension

),

final as (

    select
        cast(from_as_of_date as date) as from_as_of_date,
        cast(to_as_of_date as date) as to_as_of_date,
        cast(segment_dimension as {{ dbt.type_string() }}) as segment_dimension,
        cast(from_segment as {{ dbt.type_string() }}) as from_segment,
        cast(to_segment as {{ dbt.type_string() }}) as to_segment,
        cast(count(*) as {{ dbt.type_bigint() }}) as customer_count,
        cast(sum(revenue) as {{ type_money() }}) as revenue

    from moves
    group by from_as_of_date, to_as_of_date, segment_dimension, from_segment, to_segment

)

select * from final
