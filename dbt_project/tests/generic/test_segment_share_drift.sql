{#- Fails for every segment (dimension, value) whose share of customers moved by more than max_share_change
    between the two latest as-of dates of a history model with an as_of_date column. -#}
{% test segment_share_drift(model, dimensions, max_share_change) %}

with

latest_dates as (

    select distinct as_of_date from {{ model }}
    order by as_of_date desc
    limit 2

),

history as (

    select * from {{ model }}
    where as_of_date in (select as_of_date from latest_dates)

),

shares as (

    {% for dimension in dimensions %}
        select
            as_of_date,
            '{{ dimension }}' as segment_dimension,
            cast({{ dimension }} as {{ dbt.type_string() }}) as segment_value,
            count(*) * 1.0 / sum(count(*)) over (partition by as_of_date) as customer_share
        from history
        group by as_of_date, {{ dimension }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

compared as (

    select
        segment_dimension,
        segment_value,
        coalesce(max(case when as_of_date = (select min(as_of_date) from latest_dates) then customer_share end), 0)
            as share_before,
        coalesce(max(case when as_of_date = (select max(as_of_date) from latest_dates) then customer_share end), 0)
            as share_after

    from shares
    group by segment_dimension, segment_value

)

select
    *,
    share_after - share_before as share_change

from compared
where
    (select count(*) from latest_dates) = 2
    and abs(share_after - share_before) > {{ max_share_change }}

{% endtest %}
