{#- The customer records known at the end of the backtest's calibration date, resolved into customers as they
    were then (macro resolved_customer_records). -#}
{{ resolved_customer_records(ref('stg_crm__customers'), backtest_calibration_date()) }}
