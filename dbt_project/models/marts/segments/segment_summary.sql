{#- Per segment dimension and value: size, trailing-12-month revenue and behaviour, satisfaction and
    support load. Shares are of all customers / all trailing-12-month revenue. -#}
with

segments as (

    select * from {{ ref('customer_segments') }}

),

purchases as (

    select * from {{ ref('int_customers_purchases_aggregated') }}

),

tickets as (

    select * from {{ ref('int_customers_tickets_aggregated') }}

),

satisfaction as (

    select * from {{ ref('segment_satisfaction') }}

),

segment_members as (
    {{ unpivot_segments('segments', segment_dimensions()) }}
),

customer_metrics as (

    select
        segments.customer_key,
        segments.trailing_12m_net_revenue,
        segments.purchase_days_t12m,
        purchases.completed_orders_t12m,
        coalesce(tickets.tickets_opened_t12m, 0) as tickets_opened_t12m

    from segments
    inner join purchases
        on segments.customer_key = purchases.customer_key
    left join tickets
        on segments.customer_key = tickets.customer_key

),

aggregated as (

    select
        segment_members.segment_dimension,
        segment_members.segment_value,
        count(*) as customer_count,
        sum(customer_metrics.trailing_12m_net_revenue) as trailing_12m_net_revenue,
        sum(customer_metrics.completed_orders_t12m) as completed_orders_t12m,
        sum(customer_metrics.purchase_days_t12m) as purchase_days_t12m,
        sum(customer_metrics.tickets_opened_t12m) as tickets_opened_t12m

    from segment_members
    inner join customer_metrics
        on segment_members.customer_key = customer_metrics.customer_key
    group by segment_members.segment_dimension, segment_members.segment_value

),

totals as (

    select
        customer_count as total_customers,
        trailing_12m_net_revenue as total_revenue

    from aggregated
    where segment_dimension = 'all'

),

final as (

    select
        cast(aggregated.segment_dimension as {{ dbt.type_string() }}) as segment_dimension,
        cast(aggregated.segment_value as {{ dbt.type_string() }}) as segment_value,
        cast(aggregated.customer_count as {{ dbt.type_bigint() }}) as customer_count,
        cast(aggregated.customer_count * 1.0 / totals.total_customers as {{ type_double() }}) as customer_share,
        cast(aggregated.trailing_12m_net_revenue as {{ type_money() }}) as trailing_12m_net_revenue,
        cast(
            aggregated.trailing_12m_net_revenue / nullif(totals.total_revenue, 0) as {{ type_double() }}
        ) as revenue_share,
        cast(aggregated.completed_orders_t12m as {{ dbt.type_bigint() }}) as completed_orders_t12m,
        cast(
            aggregated.trailing_12m_net_revenue / nullif(aggregated.completed_orders_t12m, 0)
            as {{ type_double() }}
        ) as average_order_value,
        cast(
            aggregated.purchase_days_t12m * 1.0 / aggregated.customer_count as {{ type_double() }}
        ) as purchase_days_per_customer,
        cast(satisfaction.nps as {{ type_double() }}) as nps,
        cast(satisfaction.nps_respondent_count as {{ dbt.type_bigint() }}) as nps_respondent_count,
        cast(satisfaction.csat_mean as {{ type_double() }}) as csat_mean,
        cast(satisfaction.csat_respondent_count as {{ dbt.type_bigint() }}) as csat_respondent_count,
        cast(aggregated.tickets_opened_t12m as {{ dbt.type_bigint() }}) as tickets_opened_t12m,
        cast(
            aggregated.tickets_opened_t12m * 1.0 / aggregated.customer_count as {{ type_double() }}
        ) as tickets_per_customer,
        cast({{ as_of_date() }} as date) as as_of_date

    from aggregated
    inner join satisfaction
        on
            aggregated.segment_dimension = satisfaction.segment_dimension
            and aggregated.segment_value = satisfaction.segment_value
    left join totals
        on 1 = 1

)

select * from final
