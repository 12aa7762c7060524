{#- Staging keeps every known version of each CRM record, from the raw rows of usable files only.

    Raw tables are append-only; a file's rows reach staging once the blocking raw checks accepted the file (or
    an operator released it): the ingest ledger's `state`. Staging of the CRM entities is incremental where the
    adapter deletes and inserts by key (DuckDB), a table elsewhere: an incremental build re-derives every
    version of just the keys that received rows from files accepted since the last build (`accepted_seq`),
    from all of their raw rows, so the versions are the same as a full build's. Dagster asks for a full
    refresh when the staging models, macros, seeds or dbt_project.yml change, or after an operator unloads a
    usable file (orchestration/lib/dbt_project.py). -#}

{#- `incremental` where the adapter deletes and inserts by key (DuckDB), `table` elsewhere: the staged CRM
    entities here and the order history (macros/customer_history/incremental_order_history.sql). -#}
{% macro delete_insert_materialization() -%}
    {{ return(adapter.dispatch('delete_insert_materialization', 'clientele')()) }}
{%- endmacro %}

{% macro default__delete_insert_materialization() -%}
    {{ return('table') }}
{%- endmacro %}

{% macro duckdb__delete_insert_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{#- The ledger states whose files may reach staging (orchestration/lib/ingest/ledger.py USABLE_STATES). -#}
{% macro usable_file_states() -%}
    ('accepted', 'released')
{%- endmacro %}

{#- The `source` CTE of a staging model: raw rows of usable files with their file's profile, load time and
    acceptance order (_source_profile, _loaded_at, _accepted_seq); in an incremental build only the keys (as
    the model cleans them, from a row aliased `raw_rows` joined to `ledger`) that received rows from files
    accepted since the last build, with all of their rows. -#}
{% macro usable_raw_rows(entity, key_expressions) -%}
    select
        raw_rows.*,
        ledger.source_profile as _source_profile,
        ledger.loaded_at as _loaded_at,
        ledger.accepted_seq as _accepted_seq

    from {{ source('crm', entity) }} as raw_rows
    inner join {{ source('crm', '_ingest_ledger') }} as ledger
        on raw_rows._file_id = ledger.file_id
    where
        ledger.state in {{ usable_file_states() }}
        {%- if is_incremental() %}
        and ({{ key_expressions | join(', ') }}) in (
            select {{ key_expressions | join(', ') }}
            from {{ source('crm', entity) }} as raw_rows
            inner join {{ source('crm', '_ingest_ledger') }} as ledger
                on raw_rows._file_id = ledger.file_id
            where
                ledger.state in {{ usable_file_states() }}
                and ledger.accepted_seq > (select coalesce(max(accepted_seq), 0) from {{ this }})
        )
        {%- endif %}
{%- endmacro %}

{#- The versions of each record from a CTE of cleaned rows (with loaded_at, file_id, source_row): one row per
    change of the tracked columns, in the order the CRM made them (updated_at where the export has one, else
    load time; then file and row), with the interval in which it was the known state:
    - version_time: when this version became known (updated_at, else the file's load time);
    - valid_from: version_time, except for a first version without updated_at, known since the record
      existed (null: bounded by its own creation or event date);
    - valid_to: when the next version became known (null for the current version).
    A re-export that changes nothing tracked is not a new version. -#}
{% macro record_versions(relation, key_columns, tracked_columns, updated_at=none) -%}
    {%- set partition = key_columns | join(', ') -%}
    {%- set version_time = 'coalesce(' ~ updated_at ~ ', loaded_at)' if updated_at else 'loaded_at' -%}
    {%- set fingerprint = row_fingerprint(tracked_columns) -%}
    select
        changes.*,
        case
            when changes.version_number = 1{% if updated_at %} and changes.{{ updated_at }} is null{% endif %}
                then null
            else changes.version_time
        end as valid_from,
        lead(changes.version_time) over (
            partition by {{ partition }} order by changes.version_number
        ) as valid_to

    from (
        select
            sequenced.*,
            row_number() over (
                partition by {{ partition }} order by sequenced.version_time, sequenced.file_id, sequenced.source_row
            ) as version_number

        from (
            select
                *,
                {{ version_time }} as version_time,
                {{ fingerprint }} as row_fingerprint,
                lag({{ fingerprint }}) over (
                    partition by {{ partition }} order by {{ version_time }}, file_id, source_row
                ) as previous_fingerprint

            from {{ relation }}
        ) as sequenced
        where sequenced.previous_fingerprint is null or sequenced.previous_fingerprint != sequenced.row_fingerprint
    ) as changes
{%- endmacro %}

{#- A hash of a row's tracked columns, to tell a changed version from a re-export of the same state. -#}
{% macro row_fingerprint(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{#- The end of the as-of day, exclusive: what was known "at the end of the as-of day" is what became known
    before it (timestamps are UTC). -#}
{% macro as_of_end(as_of=none) -%}
    cast({{ dbt.dateadd('day', 1, as_of if as_of is not none else as_of_date()) }} as timestamp)
{%- endmacro %}

{#- Where-clause on a staging version table: the version known at the end of the as-of day. -#}
{% macro known_at(end_timestamp, alias=none) -%}
    {%- set prefix = alias ~ '.' if alias else '' -%}
    ({{ prefix }}valid_from is null or {{ prefix }}valid_from < {{ end_timestamp }})
    and ({{ prefix }}valid_to is null or {{ prefix }}valid_to >= {{ end_timestamp }})
{%- endmacro %}
