-- The floor: the least work that yields Clientele's RFM scores and value tiers from the raw exports.
-- One pass of DuckDB SQL over the order and customer CSVs (plus the FX and country reference seeds),
-- reproducing the definitions of the dbt models customer_rfm and int_customers_value_tiered.
-- Inputs (SET VARIABLE before running): orders_files, customers_files, fx_rates_file, countries_file,
-- as_of (DATE), reporting_currency, default_currency, tier_a_share, tier_b_share (DECIMAL),
-- max_records_per_identifier, source_profile, output_file.

create or replace temp table floor_rfm as
with

-- Latest version of every order (re-exports carry a later updated_at), in reporting currency.
orders as (
    select
        order_id,
        customer_id,
        order_date,
        amount,
        coalesce(upper(currency), getvariable('default_currency')) as currency,
        coalesce(lower(status), 'completed') as status
    from read_csv(
        getvariable('orders_files'),
        header = true, union_by_name = true, filename = true, types = {'amount': 'decimal(18,2)'}
    )
    qualify row_number() over (
        partition by order_id order by updated_at desc nulls last, filename desc
    ) = 1
),

fx as (
    select upper(currency) as currency, rate_to_usd
    from read_csv(getvariable('fx_rates_file'), header = true, types = {'rate_to_usd': 'decimal(18,8)'})
),

completed_orders as (
    select
        orders.customer_id,
        orders.order_date,
        round(orders.amount * fx.rate_to_usd / reporting.rate_to_usd, 2)::decimal(18, 2) as amount
    from orders
    join fx on orders.currency = fx.currency
    join fx as reporting on reporting.currency = upper(getvariable('reporting_currency'))
    where orders.status = 'completed' and orders.order_date <= getvariable('as_of')
),

-- Customer records (latest version) with normalised e-mail and phone.
calling_codes as (
    select lower(country_alias) as country, any_value(calling_code::varchar) as calling_code
    from read_csv(getvariable('countries_file'), header = true, all_varchar = true)
    group by all
),

latest_records as (
    select
        customers.customer_id,
        lower(trim(customers.email)) as email,
        trim(customers.phone) like '+%' as is_international,
        regexp_replace(customers.phone, '[^0-9]', '', 'g') as digits,
        calling_codes.calling_code
    from read_csv(getvariable('customers_files'), header = true, union_by_name = true, filename = true)
        as customers
    left join calling_codes on lower(trim(customers.country)) = calling_codes.country
    qualify row_number() over (
        partition by customers.customer_id order by customers.updated_at desc nulls last, customers.filename desc
    ) = 1
),

-- Phones as digits with the country calling code, as Clientele's normalize_phone macro.
records as (
    select
        customer_id,
        case when email like '_%@_%._%' and email not like '% %' then email end as email,
        case
            when is_international then digits
            when digits like '00%' then digits[3:]
            when calling_code is null then digits
            when digits like '0%' then calling_code || digits[2:]
            when digits like calling_code || '%' and length(digits) >= length(calling_code) + 9 then digits
            else calling_code || digits
        end as phone_with_country_code,
        case when length(phone_with_country_code) between 8 and 15 then phone_with_country_code end as phone
    from latest_records
),

-- Identity: records sharing an e-mail or a phone are one customer, keyed by the smallest record id
-- (one hop: enough when no record links two others, as in the demo exports; the benchmark checks it).
identifiers as (
    select customer_id, 'email:' || email as identifier from records where email is not null
    union all
    select customer_id, 'phone:' || phone from records where phone is not null
),

shared as (
    select identifier, min(customer_id) as anchor
    from identifiers
    group by identifier
    having count(*) between 2 and getvariable('max_records_per_identifier')
),

customers as (
    select
        records.customer_id,
        coalesce(min(shared.anchor), records.customer_id) as anchor_customer_id,
        md5(getvariable('source_profile') || ':' || coalesce(min(shared.anchor), records.customer_id))
            as customer_key
    from records
    left join identifiers on records.customer_id = identifiers.customer_id
    left join shared on identifiers.identifier = shared.identifier
    group by records.customer_id
),

-- Purchase days per customer: R = days since the last one, F = their number, M = lifetime revenue.
purchase_days as (
    select customers.customer_key, completed_orders.order_date, sum(completed_orders.amount) as revenue
    from completed_orders
    join customers on completed_orders.customer_id = customers.customer_id
    group by all
),

purchasers as (
    select
        customer_key,
        getvariable('as_of') - max(order_date) as recency_days,
        count(*) as frequency,
        sum(revenue)::decimal(18, 2) as monetary,
        sum(revenue) filter (where order_date > getvariable('as_of') - interval 12 month)::decimal(18, 2)
            as trailing_12m_revenue
    from purchase_days
    group by customer_key
),

scored as (
    select
        *,
        least(5, 1 + floor(5 * percent_rank() over (order by recency_days desc)))::integer as r_score,
        least(5, 1 + floor(5 * percent_rank() over (order by frequency)))::integer as f_score,
        least(5, 1 + floor(5 * percent_rank() over (order by monetary)))::integer as m_score
    from purchasers
),

-- Pareto tiers on trailing-12-month revenue: A while the revenue ranked above is < 70% of the total, B < 90%.
tiered as (
    select
        customer_key,
        case
            when above < getvariable('tier_a_share') * total then 'A'
            when above < getvariable('tier_b_share') * total then 'B'
            else 'C'
        end as value_tier
    from (
        select
            customer_key,
            coalesce(sum(trailing_12m_revenue) over (
                order by trailing_12m_revenue desc, customer_key rows between unbounded preceding and 1 preceding
            ), 0) as above,
            sum(trailing_12m_revenue) over () as total
        from purchasers
        where trailing_12m_revenue > 0
    )
)

select
    all_customers.anchor_customer_id,
    all_customers.customer_key,
    scored.recency_days::bigint as recency_days,
    scored.frequency::bigint as frequency,
    (scored.monetary * 100)::bigint as monetary_cents,
    scored.r_score,
    scored.f_score,
    scored.m_score,
    coalesce(tiered.value_tier, 'none') as value_tier
from (select distinct anchor_customer_id, customer_key from customers) as all_customers
left join scored on all_customers.customer_key = scored.customer_key
left join tiered on all_customers.customer_key = tiered.customer_key;

copy floor_rfm to (getvariable('output_file')) (format parquet);
