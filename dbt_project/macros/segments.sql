{#- The segment dimensions reported by segment_summary and segment_satisfaction ("all" = every customer). -#}
{% macro segment_dimensions() -%}
    {{ return(['all', 'value_tier', 'lifecycle_stage', 'rfm_segment', 'city_tier', 'frequency_tier']) }}
{%- endmacro %}

{#- One row per customer and segment dimension: (customer_key, segment_dimension, segment_value), from a
    relation or CTE carrying one column per dimension. A missing value (e.g. no RFM score) is 'none'. -#}
{% macro unpivot_segments(relation, dimensions) -%}
    {%- for dimension in dimensions %}
    select
        customer_key,
        '{{ dimension }}' as segment_dimension,
        {% if dimension == 'all' -%}
        'all'
        {%- else -%}
        coalesce({{ dimension }}, 'none')
        {%- endif %} as segment_value

    from {{ relation }}
    {%- if not loop.last %}

    union all
    {% endif -%}
    {%- endfor %}
{%- endmacro %}

{#- Per-dimension totals from counts per segment cell: one row per (segment_dimension, segment_value, keys)
    with the summed measure. The cell relation carries one column per dimension (missing value: 'none'). -#}
{% macro roll_up_segments(relation, dimensions, keys, measure) -%}
    {%- for dimension in dimensions %}
    {%- set segment_value = "'all'" if dimension == 'all' else "coalesce(" ~ dimension ~ ", 'none')" %}
    {%- set group_by = ([] if dimension == 'all' else [segment_value]) + keys %}
    select
        '{{ dimension }}' as segment_dimension,
        {{ segment_value }} as segment_value,
        {%- for key in keys %}
        {{ key }},
        {%- endfor %}
        sum({{ measure }}) as {{ measure }}

    from {{ relation }}
    {%- if group_by %}
    group by {{ group_by | join(', ') }}
    {%- endif %}
    {%- if not loop.last %}

    union all
    {% endif -%}
    {%- endfor %}
{%- endmacro %}

{#- A jinja list as a SQL IN list of string literals: ['A', 'B'] -> 'A', 'B'. -#}
{% macro quoted_list(values) -%}
    {%- for value in values -%}'{{ value }}'{{ ', ' if not loop.last }}{%- endfor -%}
{%- endmacro %}
