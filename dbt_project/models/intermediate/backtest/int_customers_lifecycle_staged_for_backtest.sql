{#- Lifecycle stages as of the backtest's calibration date (macro customer_lifecycle_stages). -#}
{{ customer_lifecycle_stages(ref('int_customers_purchases_aggregated_for_backtest'), backtest_calibration_date()) }}
