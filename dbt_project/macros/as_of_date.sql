{#- The one place the as-of date is parsed: var `as_of_date`, else env CLIENTELE_AS_OF_DATE (read at execution
    only, so changing it keeps dbt's partial parsing; Dagster passes it this way), else current_date. -#}
{% macro as_of_date() -%}
    {%- set raw_value = var('as_of_date', none) -%}
    {%- if (raw_value is none or raw_value == '') and execute -%}
        {%- set raw_value = env_var('CLIENTELE_AS_OF_DATE', '') -%}
    {%- endif -%}
    {%- set text = (raw_value | string | trim) if raw_value is not none else '' -%}
    {%- if text in ('', 'None', 'none', 'null') -%}
        current_date
    {%- else -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
            {{ exceptions.raise_compiler_error("as_of_date must be YYYY-MM-DD or null, got '" ~ text ~ "'") }}
        {%- endif -%}
        cast('{{ text }}' as date)
    {%- endif -%}
{%- endmacro %}

{#- The backtest's calibration date: backtest_horizon_days before the as-of date. Each run calibrates the models
    on the state known at the end of that day and compares their predictions with what happened up to as_of. -#}
{% macro backtest_calibration_date() -%}
    cast({{ dbt.dateadd('day', -(var('backtest_horizon_days') | int), as_of_date()) }} as date)
{%- endmacro %}
