{#- Staging of the CRM entities is incremental where the adapter deletes and inserts by key (DuckDB), a table
    elsewhere. Raw tables are append-only (ingest adds each new file's rows with its load time), so an
    incremental build re-derives just the keys that received rows since the last build, from all of their raw
    versions: the dedup picks the same winner a full build would. Dagster asks for a full refresh when the
    staging models, macros, seeds or dbt_project.yml change (orchestration/lib/dbt_project.py). -#}
{% macro staging_materialization() -%}
    {{ return(adapter.dispatch('staging_materialization', 'clientele')()) }}
{%- endmacro %}

{% macro default__staging_materialization() -%}
    {{ return('table') }}
{%- endmacro %}

{% macro duckdb__staging_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{#- Where-clause on a raw CRM table in an incremental build: every raw version of the keys (as the model cleans
    them) that received a row loaded after the newest version already in the model. -#}
{% macro versions_of_keys_loaded_since_last_build(relation, key_expressions) -%}
    ({{ key_expressions | join(', ') }}) in (
        select {{ key_expressions | join(', ') }}
        from {{ relation }}
        where _loaded_at > (
            select coalesce(max(loaded_at), cast('1900-01-01' as timestamp))
            from {{ this }}
        )
    )
{%- endmacro %}
