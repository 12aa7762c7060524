{#- The order history (int_orders_resolved, int_purchase_days_sequenced and their backtest twins, the orders mart)
    is incremental on DuckDB and a table elsewhere (delete_insert_materialization). An incremental build numbers
    again only the customers whose orders changed:

    - int_orders_resolved* compares the orders known at the end of the as-of day, attributed to today's
      customers, with the rows it holds (every column, by a row hash). The customers of every order that is new,
      gone or different (before and after, so a merge or a moved order touches both) are "touched": their orders
      are numbered again from all of their orders, and only the rows that differ from the held ones are deleted
      and written (a customer with one new order keeps its older rows; a customer that lost an order is written
      whole, so the models below see it rebuilt). The comparison starts from the inputs, not from what the last
      run saw, so a failed or skipped run, a moved as-of date or a late record cannot leave a stale row.
    - Rebuilt rows carry `_rebuild_seq`, increasing from build to build. int_purchase_days_sequenced* and the
      orders mart rebuild the customers whose order rows are newer than the newest they have consumed
      (`_orders_rebuild_seq`), and drop the customers that no longer have any order row. Columns starting with
      "_" are bookkeeping: the publication leaves them out.

    Dagster asks for a full refresh when this code changes (orchestration/lib/dbt_project.py
    INCREMENTAL_INPUTS). -#}
{#- The build's clock in milliseconds: the rebuild sequence of a full build, and the floor of an incremental one. -#}
{% macro _rebuild_clock_ms() -%}
    {{ (run_started_at.timestamp() * 1000) | int }}
{%- endmacro %}

{#- The session's temporary table of the customers an incremental build rebuilds (customer_key, rebuild_seq). -#}
{% macro touched_customers() -%}
    {{ return(this.identifier ~ '__touched_customers') }}
{%- endmacro %}

{#- The rebuild sequence of the rows a build writes: in an incremental build the one its pre-hook drew (one past
    the table's newest, and never below the clock in milliseconds); in a full build the clock. -#}
{% macro order_history_rebuild_seq(touched) -%}
    {%- if touched is none -%}
        cast({{ _rebuild_clock_ms() }} as {{ dbt.type_bigint() }})
    {%- else -%}
        (select max(rebuild_seq) from {{ touched }})
    {%- endif -%}
{%- endmacro %}

{% macro _next_rebuild_seq() -%}
    (
        select greatest(coalesce(max(_rebuild_seq), 0) + 1, {{ _rebuild_clock_ms() }})
        from {{ this }}
    )
{%- endmacro %}

{#- Pre-hook of int_orders_resolved*: find the touched customers, number their orders again into a temporary table
    and delete the held rows that changed. -#}
{% macro rewrite_touched_orders(order_versions, customer_records, as_of) -%}
    {%- if is_incremental() -%}
        {%- set compared = [
            'order_key', 'source_profile', 'order_id', 'customer_key', 'customer_record_key', 'customer_id',
            'order_date', 'ordered_at', 'order_status', 'is_completed', 'channel', 'currency',
            'amount_in_order_currency', 'amount', 'net_amount',
        ] -%}
        create or replace temporary table {{ touched_customers() }} as
        with

        current_orders as (

            select
                order_key,
                customer_key,
                hash({{ compared | join(', ') }}) as row_hash

            from ({{ attributed_orders(order_versions, customer_records, as_of) }}) as attributed

        ),

        held_orders as (

            select
                order_key,
                customer_key,
                hash({{ compared | join(', ') }}) as row_hash

            from {{ this }}

        ),

        changed as (

            select
                current_orders.customer_key as current_customer_key,
                held_orders.customer_key as held_customer_key

            from current_orders
            full outer join held_orders
                on current_orders.order_key = held_orders.order_key
            where
                current_orders.order_key is null
                or held_orders.order_key is null
                or current_orders.row_hash != held_orders.row_hash

        ),

        customer_keys as (

            select current_customer_key as customer_key from changed where current_customer_key is not null
            union
            select held_customer_key from changed where held_customer_key is not null

        )

        select
            customer_key,
            {{ _next_rebuild_seq() }} as rebuild_seq

        from customer_keys;

        create or replace temporary table {{ rebuilt_orders() }} as
        {{ resolved_orders(order_versions, customer_records, as_of, touched=touched_customers()) }};

        {{ _delete_changed_rows(rebuilt_orders(), ['order_key']) }}
    {%- endif -%}
{%- endmacro %}

{#- The session's temporary table of the touched customers' orders as this build numbers them. -#}
{% macro rebuilt_orders() -%}
    {{ return(this.identifier ~ '__rebuilt_orders') }}
{%- endmacro %}

{#- The body of an incremental int_orders_resolved*: the rebuilt orders no longer held (new or changed; the
    pre-hook deleted the changed ones). -#}
{% macro rebuilt_orders_to_append() -%}
    select *
    from {{ rebuilt_orders() }} as rebuilt
    where not exists (select 1 from {{ this }} as held where held.order_key = rebuilt.order_key)
{%- endmacro %}

{#- Delete the rows of `this` that `rebuilt` (the touched customers' rows as this build makes them) changes: the
    touched customers' rows that differ from their rebuilt row (every column but the bookkeeping ones) or have
    none, and every row of a touched customer that lost a row, so that its remaining rows are written again with
    the new rebuild sequence and the models reading this one see the customer rebuilt. Rows equal to their
    rebuilt row stay: a customer touched by one new order keeps its older orders as they were written. -#}
{% macro _delete_changed_rows(rebuilt, key_columns) -%}
    {%- set compared = [] -%}
    {%- for column in adapter.get_columns_in_relation(this) if not column.name.startswith('_') -%}
        {%- do compared.append(adapter.quote(column.name)) -%}
    {%- endfor -%}
    {%- set same_key -%}
        {%- for column in key_columns %}rebuilt.{{ column }} = held.{{ column }}{% if not loop.last %} and {% endif %}{% endfor -%}
    {%- endset -%}
    {#- a row is lost when the customer has no rebuilt row with its key: an order moved to another customer is one
        the customer lost, even though the order is rebuilt -#}
    create or replace temporary table {{ this.identifier }}__customers_losing_rows as
    select distinct held.customer_key
    from {{ this }} as held
    where
        held.customer_key in (select customer_key from {{ touched_customers() }})
        and not exists (
            select 1 from {{ rebuilt }} as rebuilt
            where {{ same_key }} and rebuilt.customer_key = held.customer_key
        );

    delete from {{ this }} as held
    where
        held.customer_key in (select customer_key from {{ touched_customers() }})
        and (
            held.customer_key in (select customer_key from {{ this.identifier }}__customers_losing_rows)
            or not exists (
                select 1 from {{ rebuilt }} as rebuilt
                where
                    {{ same_key }}
                    and hash({% for column in compared %}rebuilt.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %})
                    = hash({% for column in compared %}held.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %})
            )
        )
{%- endmacro %}

{#- Pre-hook of the models derived from an order history `orders` (int_purchase_days_sequenced*, the orders
    mart): the customers whose order rows were rebuilt since this table last consumed them (its
    `_orders_rebuild_seq`), or who no longer have any; their rows are deleted. -#}
{% macro rewrite_touched_customers(orders) -%}
    {%- if is_incremental() -%}
        create or replace temporary table {{ touched_customers() }} as
        with

        consumed as (

            select coalesce(max(_orders_rebuild_seq), 0) as rebuild_seq from {{ this }}

        ),

        rebuilt as (

            select distinct customer_key
            from {{ orders }}
            where _rebuild_seq > (select rebuild_seq from consumed)

        ),

        gone as (

            select distinct held.customer_key
            from {{ this }} as held
            where not exists (select 1 from {{ orders }} as orders where orders.customer_key = held.customer_key)

        )

        select customer_key from rebuilt
        union
        select customer_key from gone;

        delete from {{ this }} where customer_key in (select customer_key from {{ touched_customers() }})
    {%- endif -%}
{%- endmacro %}
