{#- Order history per customer as known at the end of the backtest's calibration date (macro
    customer_purchase_history). -#}
{{ customer_purchase_history(
    ref('int_customer_records_resolved_for_backtest'),
    ref('int_orders_resolved_for_backtest'),
    ref('int_purchase_days_sequenced_for_backtest'),
    backtest_calibration_date()
) }}
