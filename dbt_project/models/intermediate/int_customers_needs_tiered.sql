{#- What each customer needs, from the classification window (the classification_window_days days ending on
    as_of): product demand (units and distinct products of completed orders), service demand (tickets opened,
    plus interactions while one of the customer's tickets was open) and price demand (the share of order
    lines bought below / above list price). -#}
{%- set as_of = as_of_date() -%}
{%- set window_start = dbt.dateadd('day', -(var('classification_window_days') | int), as_of) -%}
{%- set tolerance = var('price_list_tolerance') -%}

with

customers as (

    select distinct customer_key

    from {{ ref('int_customer_records_resolved') }}

),

customer_records as (

    select
        customer_record_key,
        customer_key

    from {{ ref('int_customer_records_resolved') }}

),

orders as (

    select
        order_key,
        customer_key,
        currency

    from {{ ref('int_orders_resolved') }}
    where is_completed and order_date > {{ window_start }}

),

order_lines as (

    select
        order_key,
        product_key,
        quantity,
        unit_price_in_order_currency,
        line_amount_in_order_currency

    from {{ ref('stg_crm__order_lines') }}
    where {{ known_at(as_of_end()) }}

),

products as (

    select
        product_key,
        product_category,
        list_price

    from {{ ref('stg_crm__products') }}
    where {{ known_at(as_of_end()) }}

),

fx_rates as (

    select
        rate_to_usd,
        upper(trim(currency)) as currency

    from {{ ref('fx_rates') }}

),

list_rate as (

    select rate_to_usd

    from fx_rates
    where currency = upper('{{ var("list_price_currency") }}')

),

lines as (

    {#- Each line's unit price in the list price currency, beside the product's list price. #}
    select
        orders.customer_key,
        order_lines.product_key,
        order_lines.quantity,
        products.product_category,
        products.list_price,
        coalesce(
            order_lines.unit_price_in_order_currency,
            order_lines.line_amount_in_order_currency / nullif(order_lines.quantity, 0)
        ) * order_rate.rate_to_usd / list_rate.rate_to_usd as unit_price_in_list_currency

    from orders
    inner join order_lines
        on orders.order_key = order_lines.order_key
    left join products
        on order_lines.product_key = products.product_key
    left join fx_rates as order_rate
        on orders.currency = order_rate.currency
    left join list_rate
        on 1 = 1

),

priced_lines as (

    {#- A line is bought at discount, list or premium: against the list price (within price_list_tolerance, so
        currency rounding does not count), or, without one, by its price band: the bottom / top price_band_share
        of the unit prices paid in its category in the window. Only the lines without a list price are ranked
        (sorting every line of the window costs seconds at 10M orders and decides nothing for listed ones). #}
    select
        customer_key,
        case
            when unit_price_in_list_currency < list_price * (1 - {{ tolerance }}) then 'discount'
            when unit_price_in_list_currency > list_price * (1 + {{ tolerance }}) then 'premium'
            else 'list'
        end as price_class

    from lines
    where unit_price_in_list_currency is not null and list_price > 0

    union all

    select
        customer_key,
        case
            when price_band_rank <= {{ var('price_band_share') }} then 'discount'
            when price_band_rank >= 1 - {{ var('price_band_share') }} then 'premium'
            else 'list'
        end as price_class

    from (
        select
            customer_key,
            percent_rank() over (
                partition by product_category order by unit_price_in_list_currency
            ) as price_band_rank,
            count(*) over (partition by product_category) as price_band_lines

        from lines
        where unit_price_in_list_currency is not null and coalesce(list_price, 0) <= 0
    ) as ranked
    {#- a band needs prices to compare with: a category's only line without list price is left out #}
    where price_band_lines > 1

),

products_bought as (

    select
        customer_key,
        sum(quantity) as units_in_window,
        count(distinct product_key) as products_in_window

    from lines
    group by customer_key

),

prices_paid as (

    select
        customer_key,
        count(*) as priced_lines_in_window,
        count(case when price_class = 'discount' then 1 end) as discount_lines_in_window,
        count(case when price_class = 'premium' then 1 end) as premium_lines_in_window

    from priced_lines
    group by customer_key

),

tickets as (

    select
        customer_record_key,
        opened_at,
        resolved_at,
        cast(opened_at as date) as opened_date

    from {{ ref('stg_crm__tickets') }}
    where cast(opened_at as date) <= {{ as_of }} and {{ known_at(as_of_end()) }}

),

interactions as (

    select
        interaction_key,
        customer_record_key,
        occurred_at

    from {{ ref('stg_crm__interactions') }}
    where
        cast(occurred_at as date) <= {{ as_of }}
        and cast(occurred_at as date) > {{ window_start }}
        and {{ known_at(as_of_end()) }}

),

tickets_opened as (

    select
        customer_records.customer_key,
        count(*) as tickets_in_window

    from tickets
    inner join customer_records
        on tickets.customer_record_key = customer_records.customer_record_key
    where tickets.opened_date > {{ window_start }}
    group by customer_records.customer_key

),

service_interactions as (

    {#- Interactions while a ticket of the customer was open (opened, not yet resolved; still open at as_of):
        support follow-ups. Each interaction counts once, however many tickets were open. #}
    select
        customer_key,
        count(*) as service_interactions_in_window

    from (
        select distinct
            interaction_records.customer_key,
            interactions.interaction_key

        from interactions
        inner join customer_records as interaction_records
            on interactions.customer_record_key = interaction_records.customer_record_key
        inner join customer_records as ticket_records
            on interaction_records.customer_key = ticket_records.customer_key
        inner join tickets
            on
                ticket_records.customer_record_key = tickets.customer_record_key
                and interactions.occurred_at >= tickets.opened_at
                and (tickets.resolved_at is null or interactions.occurred_at <= tickets.resolved_at)
    ) as during_tickets
    group by customer_key

),

combined as (

    select
        customers.customer_key,
        coalesce(products_bought.units_in_window, 0) as units_in_window,
        coalesce(products_bought.products_in_window, 0) as products_in_window,
        coalesce(tickets_opened.tickets_in_window, 0) as tickets_in_window,
        coalesce(service_interactions.service_interactions_in_window, 0) as service_interactions_in_window,
        coalesce(prices_paid.priced_lines_in_window, 0) as priced_lines_in_window,
        coalesce(prices_paid.discount_lines_in_window, 0) as discount_lines_in_window,
        coalesce(prices_paid.premium_lines_in_window, 0) as premium_lines_in_window

    from customers
    left join products_bought
        on customers.customer_key = products_bought.customer_key
    left join prices_paid
        on customers.customer_key = prices_paid.customer_key
    left join tickets_opened
        on customers.customer_key = tickets_opened.customer_key
    left join service_interactions
        on customers.customer_key = service_interactions.customer_key

),

final as (

    select
        customer_key,
        units_in_window,
        products_in_window,
        case
            when units_in_window >= {{ var('product_demand_high_min_units') }}
                and products_in_window >= {{ var('product_demand_high_min_products') }} then 'high'
            when units_in_window >= {{ var('product_demand_medium_min_units') }}
                and products_in_window >= {{ var('product_demand_medium_min_products') }} then 'medium'
            when products_in_window > 0 then 'low'
            else 'none'
        end as product_demand_tier,
        tickets_in_window,
        service_interactions_in_window,
        tickets_in_window + service_interactions_in_window as service_contacts_in_window,
        case
            when tickets_in_window + service_interactions_in_window
                >= {{ var('service_demand_high_min_contacts') }} then 'high'
            when tickets_in_window + service_interactions_in_window
                >= {{ var('service_demand_medium_min_contacts') }} then 'medium'
            when tickets_in_window + service_interactions_in_window > 0 then 'low'
            else 'none'
        end as service_demand_tier,
        priced_lines_in_window,
        cast(discount_lines_in_window * 1.0 / nullif(priced_lines_in_window, 0) as {{ type_double() }})
            as discount_line_share,
        cast(premium_lines_in_window * 1.0 / nullif(priced_lines_in_window, 0) as {{ type_double() }})
            as premium_line_share,
        case
            when priced_lines_in_window < {{ var('price_demand_min_lines') }} then 'unknown'
            when discount_lines_in_window >= {{ var('price_discount_min_share') }} * priced_lines_in_window
                then 'discount'
            when premium_lines_in_window >= {{ var('price_premium_min_share') }} * priced_lines_in_window
                then 'premium'
            else 'standard'
        end as price_demand_tier,
        {{ as_of }} as as_of_date

    from combined

)

select * from final
