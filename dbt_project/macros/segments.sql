{#- The segment dimensions reported by segment_summary and segment_satisfaction ("all" = every customer). -#}
{% macro segment_dimensions() -%}
    {{ return([
        'all', 'value_tier', 'lifecycle_stage', 'rfm_segment', 'city_tier', 'frequency_tier',
        'region_class', 'market_class', 'product_demand_tier', 'service_demand_tier', 'price_demand_tier',
        'engagement_tier', 'preferred_channel', 'purchase_time_pattern', 'purchase_time_of_day', 'abc_class',
        'is_potential',
    ]) }}
{%- endmacro %}

{#- One row per customer and segment dimension: (customer_key, segment_dimension, segment_value), from a
    relation or CTE carrying one column per dimension. A missing value (e.g. no RFM score) is 'none'; a flag
    is 'true' or 'false'. -#}
{% macro unpivot_segments(relation, dimensions) -%}
    {%- for dimension in dimensions %}
    select
        customer_key,
        '{{ dimension }}' as segment_dimension,
        {% if dimension == 'all' -%}
        'all'
        {%- else -%}
        coalesce(cast({{ dimension }} as {{ dbt.type_string() }}), 'none')
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

{#- True when any of the location expressions names a region of var core_regions (provinces in any spelling
    of the provinces seed, or sales regions), compared as lookup keys. -#}
{% macro is_core_region(expressions) -%}
    {%- set regions = var('core_regions') or [] -%}
    {%- if regions | length == 0 -%}
    false
    {%- else -%}
    (
        {%- for expression in expressions %}
        {{ lookup_key(expression) }} in (
            {%- for region in regions -%}
            {{ lookup_key("'" ~ (region | replace("'", "''")) ~ "'") }}{{ ', ' if not loop.last }}
            {%- endfor -%}
        ){{ ' or' if not loop.last }}
        {%- endfor %}
    )
    {%- endif -%}
{%- endmacro %}

{#- ABC score of spend and frequency together: value tier A 2, B 1, C 0 plus frequency tier high 2, medium 1,
    low 0 (0-4). -#}
{% macro abc_score(value_tier, frequency_tier) -%}
    case {{ value_tier }} when 'A' then 2 when 'B' then 1 else 0 end
    + case {{ frequency_tier }} when 'high' then 2 when 'medium' then 1 else 0 end
{%- endmacro %}
