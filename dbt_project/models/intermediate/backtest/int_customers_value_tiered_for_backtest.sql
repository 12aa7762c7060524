{#- Value tiers as of the backtest's calibration date (macro customer_value_tiers). -#}
{{ customer_value_tiers(ref('int_customers_purchases_aggregated_for_backtest')) }}
