{#- Orders on or before as_of of a known customer record, attributed to the resolved customer (macro
    resolved_orders). -#}
{{ resolved_orders(ref('stg_crm__orders'), ref('int_customer_records_resolved'), as_of_date()) }}
