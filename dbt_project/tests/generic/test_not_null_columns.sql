{#- Every listed column of `model` is never null: one scan for all of a model's required columns, instead of
    one dbt test (one query, one Dagster check) per column. A failure returns one row per column holding
    nulls, with their count; the test fails by the number of null values. -#}
{% test not_null_columns(model, columns) %}
{{ config(fail_calc='coalesce(sum(null_rows), 0)') }}

with

null_counts as (

    select
        {%- for column in columns %}
        sum(case when {{ column }} is null then 1 else 0 end) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}

    from {{ model }}

)

{% for column in columns -%}
select
    '{{ column }}' as column_name,
    {{ column }} as null_rows

from null_counts
where {{ column }} > 0
{% if not loop.last %}
union all
{% endif %}
{%- endfor %}
{% endtest %}
