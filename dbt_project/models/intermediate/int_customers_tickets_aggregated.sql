{#- Ticket activity as of as_of. A ticket is open at as_of when it was opened on or before as_of and was
    not resolved by then (resolved_at after as_of, or no resolved_at and an unresolved status). -#}
{%- set as_of = as_of_date() -%}

with

tickets as (

    select
        customer_record_key,
        opened_at,
        resolved_at,
        cast(opened_at as date) as opened_date,
        case
            when resolved_at is not null then cast(resolved_at as date) > {{ as_of }}
            else is_unresolved
        end as is_open_at_as_of

    from {{ ref('stg_crm__tickets') }}
    where cast(opened_at as date) <= {{ as_of }} and {{ known_at(as_of_end()) }}

),

customer_records as (

    select
        customer_record_key,
        customer_key

    from {{ ref('int_customer_records_resolved') }}

),

final as (

    select
        customer_records.customer_key,
        count(*) as ticket_count,
        count(case when tickets.opened_date > {{ dbt.dateadd('month', -12, as_of) }} then 1 end)
            as tickets_opened_t12m,
        count(case when tickets.is_open_at_as_of then 1 end) as open_ticket_count,
        count(
            case
                when tickets.is_open_at_as_of
                    and {{ days_between('tickets.opened_date', as_of) }} > {{ var('churn_ticket_open_days') }}
                    then 1
            end
        ) as overdue_open_ticket_count,
        min(case when tickets.is_open_at_as_of then tickets.opened_at end) as oldest_open_ticket_opened_at,
        cast(
            avg(
                case
                    when not tickets.is_open_at_as_of and tickets.resolved_at is not null
                        then {{ hours_between('tickets.opened_at', 'tickets.resolved_at') }}
                end
            ) as {{ type_double() }}
        ) as mean_resolution_hours,
        max(tickets.opened_at) as last_ticket_opened_at,
        {{ as_of }} as as_of_date

    from tickets
    inner join customer_records
        on tickets.customer_record_key = customer_records.customer_record_key
    group by customer_records.customer_key

)

select * from final
