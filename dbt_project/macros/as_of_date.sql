{#- The one place `var('as_of_date')` is parsed: null/empty = current_date, else a YYYY-MM-DD literal. -#}
{% macro as_of_date() -%}
    {%- set raw_value = var('as_of_date', none) -%}
    {%- set text = (raw_value | string | trim) if raw_value is not none else '' -%}
    {%- if text in ('', 'None', 'none', 'null') -%}
        current_date
    {%- else -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
            {{ exceptions.raise_compiler_error("var as_of_date must be YYYY-MM-DD or null, got '" ~ text ~ "'") }}
        {%- endif -%}
        cast('{{ text }}' as date)
    {%- endif -%}
{%- endmacro %}
