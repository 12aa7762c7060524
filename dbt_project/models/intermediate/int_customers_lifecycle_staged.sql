{#- Frequency tier and lifecycle stage per customer as of as_of (macro customer_lifecycle_stages). -#}
{{ customer_lifecycle_stages(ref('int_customers_purchases_aggregated'), as_of_date()) }}
