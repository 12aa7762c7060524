{#- Every resolved customer has exactly one primary source record. -#}
select
    customer_key,
    count(case when is_primary_record then 1 end) as primary_records

from {{ ref('int_customer_records_resolved') }}
group by customer_key
having count(case when is_primary_record then 1 end) != 1
