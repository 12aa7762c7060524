{#- post-hook: log the row count of the table just built, so the orchestrator can put it on the asset's
    materialization while dbt goes on (orchestration/defs/dbt.py reads lines starting with the prefix). -#}
{% macro log_row_count() -%}
    {%- if execute and model.config.materialized in ('table', 'incremental', 'seed') -%}
        {%- set counted = run_query('select count(*) from ' ~ this) -%}
        {%- do log('clientele_row_count ' ~ model.unique_id ~ ' ' ~ counted.columns[0].values()[0], info=true) -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
