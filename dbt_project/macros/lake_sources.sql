{#- Where the Parquet lake is: env CLIENTELE_LAKE_URI (a cluster's object store), else <warehouse>/lake. -#}
{% macro lake_uri() -%}
    {%- set uri = env_var('CLIENTELE_LAKE_URI', '') | trim -%}
    {{- uri if uri else env_var('CLIENTELE_WAREHOUSE', 'warehouse') ~ '/lake' -}}
{%- endmacro %}

{#- on-run-start: make the raw sources (schema `raw`) readable by the target engine. DuckDB reads the raw
    tables ingest wrote to the working database; Spark gets external tables over the lake's Parquet
    (<lake>/raw/<table>/), re-created each run so new files and columns are picked up. -#}
{% macro register_lake_sources() -%}
    {{ return(adapter.dispatch('register_lake_sources', 'clientele')()) }}
{%- endmacro %}

{% macro default__register_lake_sources() -%}
    select 1
{%- endmacro %}

{% macro spark__register_lake_sources() -%}
    {%- if execute -%}
        {%- set tables = [] -%}
        {%- for source in graph.sources.values() if source.schema == 'raw' and source.name not in tables -%}
            {%- do tables.append(source.name) -%}
        {%- endfor -%}
        {%- for table in ['_quarantine', '_ingest_ledger'] if table not in tables -%}
            {%- do tables.append(table) -%}
        {%- endfor -%}
        {%- do run_query('create database if not exists raw') -%}
        {%- for table in tables -%}
            {%- do run_query('drop table if exists raw.' ~ table) -%}
            {%- do run_query(
                'create table raw.' ~ table ~ " using parquet location '" ~ lake_uri() ~ '/raw/' ~ table ~ "'"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}
