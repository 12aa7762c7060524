{#- The next best category for each purchaser: among categories the customer has not bought yet, the
    consequent of the overall ("all") association rule with the highest confidence whose antecedent the
    customer has bought (then highest lift, then name); only rules with lift > 1. -#}
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

rules as (

    select * from {{ ref('product_affinity') }}
    where segment_dimension = 'all' and lift > 1

),

customer_categories as (

    select distinct
        orders.customer_key,
        products.product_category

    from orders
    inner join order_lines
        on orders.order_key = order_lines.order_key
    inner join products
        on order_lines.product_key = products.product_key

),

candidates as (

    select
        customer_categories.customer_key,
        rules.consequent_category,
        rules.antecedent_category,
        rules.confidence,
        rules.lift,
        rules.support

    from customer_categories
    inner join rules
        on customer_categories.product_category = rules.antecedent_category
    left join customer_categories as already_bought
        on
            customer_categories.customer_key = already_bought.customer_key
            and rules.consequent_category = already_bought.product_category
    where already_bought.customer_key is null

),

ranked as (

    select
        *,
        row_number() over (
            partition by customer_key
            order by confidence desc, lift desc, consequent_category asc, antecedent_category asc
        ) as recommendation_rank

    from candidates

),

final as (

    select
        cast(customer_key as {{ dbt.type_string() }}) as customer_key,
        cast(consequent_category as {{ dbt.type_string() }}) as next_best_category,
        cast(antecedent_category as {{ dbt.type_string() }}) as because_of_category,
        cast(confidence as {{ type_double() }}) as confidence,
        cast(lift as {{ type_double() }}) as lift,
        cast(support as {{ type_double() }}) as support,
        cast({{ as_of_date() }} as date) as as_of_date

    from ranked
    where recommendation_rank = 1

)

select * from final
