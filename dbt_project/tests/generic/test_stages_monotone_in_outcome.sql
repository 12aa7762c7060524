{#- Fails for every pair of groups out of order: in rows (breakdown, breakdown_value, metric, value) with a null
    model, the metric of each group in ordered_stages must be strictly above that of every group after it.
    Groups without a row are skipped. -#}
{% test stages_monotone_in_outcome(model, breakdown, metric, ordered_stages) %}

with

stage_order as (
    {%- for stage in ordered_stages %}
    select '{{ stage }}' as stage, {{ loop.index }} as position
    {%- if not loop.last %} union all{% endif %}
    {%- endfor %}
),

rates as (

    select
        measured.breakdown_value as stage,
        stage_order.position,
        measured.value

    from {{ model }} as measured
    inner join stage_order
        on measured.breakdown_value = stage_order.stage
    where
        measured.model is null
        and measured.breakdown = '{{ breakdown }}'
        and measured.metric = '{{ metric }}'

)

select
    earlier.stage,
    earlier.value,
    later.stage as later_stage,
    later.value as later_value

from rates as earlier
inner join rates as later
    on earlier.position < later.position
where earlier.value <= later.value

{% endtest %}
