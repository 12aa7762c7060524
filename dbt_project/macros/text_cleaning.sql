{#- Trimmed text, blanks as null. -#}
{% macro clean_text(expression) -%}
    nullif(trim({{ expression }}), '')
{%- endmacro %}

{#- Lower-cased, trimmed code value (statuses, types, ...); blanks as null. -#}
{% macro clean_code(expression) -%}
    nullif(lower(trim({{ expression }})), '')
{%- endmacro %}

{#- Replace every match of a regular expression (dialects differ on "all matches"). -#}
{% macro regexp_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'clientele')(expression, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}')
{%- endmacro %}

{% macro duckdb__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{#- Join key for free-text reference lookups (countries, cities): lower case, letters and digits only
    (any script), without a trailing "市" or "city". -#}
{% macro lookup_key(expression) -%}
    {%- set letters_only = regexp_replace_all('lower(trim(' ~ expression ~ '))', '[^\\p{L}\\p{N}]', '') -%}
    nullif(
        case
            when {{ letters_only }} like '%市' then substring({{ letters_only }}, 1, length({{ letters_only }}) - 1)
            when {{ letters_only }} like '%city' then substring({{ letters_only }}, 1, length({{ letters_only }}) - 4)
            else {{ letters_only }}
        end,
        ''
    )
{%- endmacro %}

{#- CASE mapping of a cleaned code through a {value: canonical} dict; unmapped values get `otherwise`. -#}
{% macro map_values(expression, mapping, otherwise, when_null=none) -%}
    case
        {%- if when_null is not none %}
        when {{ clean_code(expression) }} is null then '{{ when_null }}'
        {%- endif %}
        {%- for value, canonical in mapping.items() %}
        when {{ clean_code(expression) }} = '{{ value }}' then '{{ canonical }}'
        {%- endfor %}
        else {{ otherwise }}
    end
{%- endmacro %}
