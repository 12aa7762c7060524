{#- Order history per resolved customer as of as_of (macro customer_purchase_history). -#}
{{ customer_purchase_history(
    ref('int_customer_records_resolved'), ref('int_orders_resolved'), ref('int_purchase_days_sequenced'), as_of_date()
) }}
