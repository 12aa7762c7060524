{#- Spark SQL implementations of the project's cross-database macros (dispatched by adapter type). The models
    never change between engines; only these macros do. -#}

{% macro spark__median(expression) -%}
    percentile({{ expression }}, 0.5)
{%- endmacro %}

{#- Spark's regexp_replace replaces every match, and its string literals treat a backslash as an escape. -#}
{% macro spark__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern | replace("\\", "\\\\") }}', '{{ replacement }}')
{%- endmacro %}

{#- Hour boundaries crossed (DuckDB's date_diff('hour', ...)), not elapsed hours rounded up. -#}
{% macro spark__hours_between(start_timestamp, end_timestamp) -%}
    cast(
        (
            unix_timestamp(date_trunc('HOUR', {{ end_timestamp }}))
            - unix_timestamp(date_trunc('HOUR', {{ start_timestamp }}))
        ) / 3600 as bigint
    )
{%- endmacro %}

{#- weekday(): 0 = Monday ... 6 = Sunday. -#}
{% macro spark__is_weekend(date_expression) -%}
    weekday({{ date_expression }}) >= 5
{%- endmacro %}

{% macro spark__utc_to_local(timestamp_expression, time_zone) -%}
    from_utc_timestamp({{ timestamp_expression }}, '{{ time_zone }}')
{%- endmacro %}

{#- Calendar days between two dates or timestamps (end - start). -#}
{% macro spark__days_between(start_date, end_date) -%}
    datediff(cast({{ end_date }} as date), cast({{ start_date }} as date))
{%- endmacro %}

{#- Contracts: the marts' yml names DuckDB types; Spark has no bare `varchar` or `text` (it says `string`). -#}
{% macro spark__get_empty_schema_sql(columns) -%}
    {%- set spark_types = {'varchar': 'string', 'text': 'string', 'character varying': 'string'} -%}
    select
    {% for name in columns -%}
        {%- set column = columns[name] -%}
        {%- set declared = (column['data_type'] or '') | trim -%}
        {%- set column_name = adapter.quote(column['name']) if column.get('quote') else column['name'] %}
        cast(null as {{ spark_types.get(declared | lower, declared) }}) as {{ column_name }}
        {{- ", " if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- Seeds: dbt-spark's session method binds values without escaping quotes (a seed value like "Xi'an" breaks
    the insert), so seed rows are written as escaped Spark string literals, cast to the column type. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set column_types = [] -%}
    {%- for column_name in agate_table.column_names -%}
        {%- do column_types.append(column_override.get(column_name, adapter.convert_type(agate_table, loop.index0))) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                (
                {%- for value in row -%}
                    {%- if value is none -%}
                        cast(null as {{ column_types[loop.index0] }})
                    {%- else -%}
                        cast('{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}' as {{ column_types[loop.index0] }})
                    {%- endif -%}
                    {{- ", " if not loop.last -}}
                {%- endfor -%}
                ){{ ", " if not loop.last }}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}

{#- Identity resolution: Spark re-analyses a CTE at every reference, so the self-join of each pass would
    double the plan per pass (2^passes copies). Reading the labels once, each record is emitted twice (as
    a child in its label's group, as the parent of its own group) and a window hands the parent's label
    to the children: the same result as the self-join, with a plan linear in the number of passes. -#}
{% macro spark__identity_pointer_jump(labels) -%}
    select
        customer_record_key,
        least(component_label, coalesce(parent_label, component_label)) as component_label

    from (
        select
            nodes.customer_record_key,
            nodes.component_label,
            nodes.is_child,
            max(case when not nodes.is_child then nodes.component_label end)
                over (partition by nodes.group_key) as parent_label

        from {{ labels }}
        lateral view inline(array(
            named_struct(
                'group_key', component_label, 'is_child', true,
                'customer_record_key', customer_record_key, 'component_label', component_label
            ),
            named_struct(
                'group_key', customer_record_key, 'is_child', false,
                'customer_record_key', customer_record_key, 'component_label', component_label
            )
        )) nodes as group_key, is_child, customer_record_key, component_label
    ) as jumped

    where is_child
{%- endmacro %}

{#- Incremental replace of an as-of date: dynamic partition overwrite (parquet tables have no delete). -#}
{% macro spark__replace_by_key_strategy() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}

{% macro spark__replace_by_key_partitions(key) -%}
    {{ return([key]) }}
{%- endmacro %}

{% macro spark__enforce_column_constraints() -%}
    {%- if execute and model.get('contract', {}).get('enforced') -%}
        {%- set rules = [] -%}
        {%- for name, column in model.columns.items() -%}
            {%- for constraint in column.get('constraints', []) -%}
                {%- if constraint.type == 'not_null' -%}
                    {%- do rules.append((name ~ ' not null', adapter.quote(name) ~ ' is null')) -%}
                {%- elif constraint.type == 'check' and constraint.expression -%}
                    {%- do rules.append(('check ' ~ constraint.expression, 'not (' ~ constraint.expression ~ ')')) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- if rules -%}
            {%- set counts -%}
                select
                {%- for rule in rules %}
                    count(case when {{ rule[1] }} then 1 end){{ ',' if not loop.last }}
                {%- endfor %}
                from {{ this }}
            {%- endset -%}
            {%- set row = run_query(counts).rows[0] -%}
            {%- set violated = [] -%}
            {%- for rule in rules -%}
                {%- if row[loop.index0] > 0 -%}
                    {%- do violated.append(rule[0] ~ ' (' ~ row[loop.index0] ~ ' rows)') -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if violated -%}
                {{ exceptions.raise_compiler_error(
                    'contract constraint violated in ' ~ this ~ ': ' ~ violated | join(', ')
                ) }}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
