{#- Identity resolution is complete: every linking e-mail or phone (shared by 2 to
    identity_max_records_per_identifier records) belongs to one customer_key. Rows here mean more
    propagation passes are needed (raise var identity_resolution_passes). -#}
with

resolved as (

    select
        customers.customer_record_key,
        customers.email,
        customers.phone,
        resolved_records.customer_key

    from {{ ref('stg_crm__customers') }} as customers
    inner join {{ ref('int_customer_records_resolved') }} as resolved_records
        on customers.customer_record_key = resolved_records.customer_record_key
    where {{ known_at(as_of_end(), 'customers') }}

),

identifiers as (

    select
        customer_record_key,
        customer_key,
        {{ dbt.concat(["'email:'", 'email']) }} as identifier

    from resolved
    where email is not null

    union all

    select
        customer_record_key,
        customer_key,
        {{ dbt.concat(["'phone:'", 'phone']) }} as identifier

    from resolved
    where phone is not null

)

select
    identifier,
    count(distinct customer_record_key) as records,
    count(distinct customer_key) as customer_keys

from identifiers
group by identifier
having
    count(distinct customer_record_key) <= {{ var('identity_max_records_per_identifier') }}
    and count(distinct customer_key) > 1
