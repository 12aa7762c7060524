{#- Pareto (ABC) value tiers on trailing-12-month net revenue as of as_of (macro customer_value_tiers). -#}
{{ customer_value_tiers(ref('int_customers_purchases_aggregated')) }}
