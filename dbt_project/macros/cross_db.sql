{#- Median of a numeric expression (aggregate). -#}
{% macro median(expression) -%}
    {{ return(adapter.dispatch('median', 'clientele')(expression)) }}
{%- endmacro %}

{% macro default__median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__median(expression) -%}
    median({{ expression }})
{%- endmacro %}

{#- 8-byte floating point (dbt.type_float() is a 4-byte float on some adapters). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'clientele')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}

{#- Money in reporting currency. -#}
{% macro type_money() -%}
    decimal(18, 2)
{%- endmacro %}

{#- Whole number of days between two dates or timestamps (end - start). -#}
{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between', 'clientele')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__days_between(start_date, end_date) -%}
    {{ dbt.datediff(start_date, end_date, 'day') }}
{%- endmacro %}

{#- Hour boundaries crossed between two timestamps (end - start). -#}
{% macro hours_between(start_timestamp, end_timestamp) -%}
    {{ return(adapter.dispatch('hours_between', 'clientele')(start_timestamp, end_timestamp)) }}
{%- endmacro %}

{% macro default__hours_between(start_timestamp, end_timestamp) -%}
    {{ dbt.datediff(start_timestamp, end_timestamp, 'hour') }}
{%- endmacro %}

{#- Incremental "replace the rows of each as-of date": strategy and partitioning per adapter (DuckDB deletes
    and inserts by key; Spark overwrites the date's partitions). -#}
{% macro replace_by_key_strategy() -%}
    {{ return(adapter.dispatch('replace_by_key_strategy', 'clientele')()) }}
{%- endmacro %}

{% macro default__replace_by_key_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro replace_by_key_partitions(key) -%}
    {{ return(adapter.dispatch('replace_by_key_partitions', 'clientele')(key)) }}
{%- endmacro %}

{% macro default__replace_by_key_partitions(key) -%}
    {{ return(none) }}
{%- endmacro %}

{#- post-hook: contract not_null and check constraints where the adapter does not enforce them on write (DuckDB
    does; Spark's parquet tables do not). A violation fails the model, so nothing downstream is published. -#}
{% macro enforce_column_constraints() -%}
    {{ return(adapter.dispatch('enforce_column_constraints', 'clientele')()) }}
{%- endmacro %}

{% macro default__enforce_column_constraints() -%}
    {{ return('') }}
{%- endmacro %}

{#- on-run-start: cap DuckDB's memory (var duckdb_memory_limit; it spills to disk beyond it). Other engines
    size themselves (Spark: driver memory in the profile). -#}
{% macro limit_engine_memory() -%}
    {{ return(adapter.dispatch('limit_engine_memory', 'clientele')()) }}
{%- endmacro %}

{% macro default__limit_engine_memory() -%}
    select 1
{%- endmacro %}

{% macro duckdb__limit_engine_memory() -%}
    set memory_limit = '{{ var("duckdb_memory_limit") }}'
{%- endmacro %}

{#- True on Saturdays and Sundays. -#}
{% macro is_weekend(date_expression) -%}
    {{ return(adapter.dispatch('is_weekend', 'clientele')(date_expression)) }}
{%- endmacro %}

{% macro default__is_weekend(date_expression) -%}
    isodow({{ date_expression }}) >= 6
{%- endmacro %}

{#- A UTC timestamp (as ingest stores them) on the clock of an IANA time zone, as a timestamp without zone. -#}
{% macro utc_to_local(timestamp_expression, time_zone) -%}
    {{ return(adapter.dispatch('utc_to_local', 'clientele')(timestamp_expression, time_zone)) }}
{%- endmacro %}

{% macro default__utc_to_local(timestamp_expression, time_zone) -%}
    timezone('{{ time_zone }}', cast({{ timestamp_expression }} as timestamptz))
{%- endmacro %}
