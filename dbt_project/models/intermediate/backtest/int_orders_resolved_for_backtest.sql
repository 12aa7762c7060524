{#- Orders on or before the backtest's calibration date in the version known at the end of that day, attributed
    to the customers as resolved then (macro resolved_orders). -#}
{{ resolved_orders(ref('stg_crm__orders'), ref('int_customer_records_resolved_for_backtest'), backtest_calibration_date()) }}
