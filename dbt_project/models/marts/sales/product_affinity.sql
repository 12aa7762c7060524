{#- Market-basket analysis of product categories bought together in one completed order (on or before
    as_of), overall ("all") and per value tier, lifecycle stage and RFM segment of the buyer. For a rule
    antecedent -> consequent within a segment of N orders with categorised lines:
      support    = orders with both / N
      confidence = orders with both / orders with the antecedent
      lift       = confidence / (orders with the consequent / N)
    Rules below affinity_min_support are left out. Each order and category carries the buyer's segment
    cell (value tier x lifecycle stage x RFM segment); counts are made per cell, then rolled up per
    dimension, so the pair self-join runs once per order, not once per order and dimension. -#}
{%- set dimensions = ['all', 'value_tier', 'lifecycle_stage', 'rfm_segment'] -%}

with

orders as (

    select
        order_key,
        customer_key

    from {{ ref('int_orders_resolved') }}
    where is_completed

),

order_lines as (

    select
        order_key,
        product_key

    from {{ ref('stg_crm__order_lines') }}
    where {{ known_at(as_of_end()) }}

),

products as (

    select
        product_key,
        product_category

    from {{ ref('stg_crm__products') }}
    where product_category is not null and {{ known_at(as_of_end()) }}

),

segments as (

    select
        customer_key,
        value_tier,
        lifecycle_stage,
        rfm_segment

    from {{ ref('customer_segments') }}

),

customer_cells as (

    {#- The buyer's segment cell and each category as small integers, so the order-level joins and the pair
        self-join hash numbers rather than strings; names come back once the counts are made. #}
    select
        *,
        dense_rank() over (order by value_tier, lifecycle_stage, rfm_segment) as cell_id

    from segments

),

cells as (

    select distinct
        cell_id,
        value_tier,
        lifecycle_stage,
        rfm_segment

    from customer_cells

),

categories as (

    select
        product_key,
        product_category,
        dense_rank() over (order by product_category) as category_id

    from products

),

order_cells as (

    select
        orders.order_key,
        customer_cells.cell_id

    from orders
    inner join customer_cells
        on orders.customer_key = customer_cells.customer_key

),

line_categories as (

    select distinct
        order_lines.order_key,
        categories.category_id

    from order_lines
    inner join categories
        on order_lines.product_key = categories.product_key

),

order_categories as (

    select
        line_categories.order_key,
        line_categories.category_id,
        order_cells.cell_id

    from line_categories
    inner join order_cells
        on line_categories.order_key = order_cells.order_key

),

category_names as (

    select distinct
        category_id,
        product_category

    from categories

),

cell_category_counts as (

    select
        cell_id,
        category_id,
        count(*) as order_count

    from order_categories
    group by cell_id, category_id

),

cell_order_counts as (

    select
        cell_id,
        count(distinct order_key) as order_count

    from order_categories
    group by cell_id

),

cell_pair_counts as (

    select
        antecedent.cell_id,
        antecedent.category_id as antecedent_id,
        consequent.category_id as consequent_id,
        count(*) as order_count

    from order_categories as antecedent
    inner join order_categories as consequent
        on
            antecedent.order_key = consequent.order_key
            and antecedent.category_id != consequent.category_id
    group by antecedent.cell_id, antecedent.category_id, consequent.category_id

),

cell_orders as (

    select
        cells.value_tier,
        cells.lifecycle_stage,
        cells.rfm_segment,
        cell_order_counts.order_count

    from cell_order_counts
    inner join cells
        on cell_order_counts.cell_id = cells.cell_id

),

cell_categories as (

    select
        cells.value_tier,
        cells.lifecycle_stage,
        cells.rfm_segment,
        category_names.product_category,
        cell_category_counts.order_count

    from cell_category_counts
    inner join cells
        on cell_category_counts.cell_id = cells.cell_id
    inner join category_names
        on cell_category_counts.category_id = category_names.category_id

),

cell_pairs as (

    select
        cells.value_tier,
        cells.lifecycle_stage,
        cells.rfm_segment,
        antecedent.product_category as antecedent_category,
        consequent.product_category as consequent_category,
        cell_pair_counts.order_count

    from cell_pair_counts
    inner join cells
        on cell_pair_counts.cell_id = cells.cell_id
    inner join category_names as antecedent
        on cell_pair_counts.antecedent_id = antecedent.category_id
    inner join category_names as consequent
        on cell_pair_counts.consequent_id = consequent.category_id

),

segment_orders as (
    {{ roll_up_segments('cell_orders', dimensions, [], 'order_count') }}
),

category_orders as (
    {{ roll_up_segments('cell_categories', dimensions, ['product_category'], 'order_count') }}
),

pair_orders as (
    {{ roll_up_segments('cell_pairs', dimensions, ['antecedent_category', 'consequent_category'], 'order_count') }}
),

final as (

    select
        cast(pair_orders.segment_dimension as {{ dbt.type_string() }}) as segment_dimension,
        cast(pair_orders.segment_value as {{ dbt.type_string() }}) as segment_value,
        cast(pair_orders.antecedent_category as {{ dbt.type_string() }}) as antecedent_category,
        cast(pair_orders.consequent_category as {{ dbt.type_string() }}) as consequent_category,
        cast(segment_orders.order_count as {{ dbt.type_bigint() }}) as segment_order_count,
        cast(antecedent_orders.order_count as {{ dbt.type_bigint() }}) as antecedent_order_count,
        cast(consequent_orders.order_count as {{ dbt.type_bigint() }}) as consequent_order_count,
        cast(pair_orders.order_count as {{ dbt.type_bigint() }}) as pair_order_count,
        cast(pair_orders.order_count * 1.0 / segment_orders.order_count as {{ type_double() }}) as support,
        cast(pair_orders.order_count * 1.0 / antecedent_orders.order_count as {{ type_double() }}) as confidence,
        cast(
            (pair_orders.order_count * 1.0 / antecedent_orders.order_count)
            / (consequent_orders.order_count * 1.0 / segment_orders.order_count)
            as {{ type_double() }}
        ) as lift,
        cast({{ as_of_date() }} as date) as as_of_date

    from pair_orders
    inner join segment_orders
        on
            pair_orders.segment_dimension = segment_orders.segment_dimension
            and pair_orders.segment_value = segment_orders.segment_value
    inner join category_orders as antecedent_orders
        on
            pair_orders.segment_dimension = antecedent_orders.segment_dimension
            and pair_orders.segment_value = antecedent_orders.segment_value
            and pair_orders.antecedent_category = antecedent_orders.product_category
    inner join category_orders as consequent_orders
        on
            pair_orders.segment_dimension = consequent_orders.segment_dimension
            and pair_orders.segment_value = consequent_orders.segment_value
            and pair_orders.consequent_category = consequent_orders.product_category
    where pair_orders.order_count * 1.0 / segment_orders.order_count >= {{ var('affinity_min_support') }}

)

select * from final
