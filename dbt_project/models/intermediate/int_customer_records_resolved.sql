{#- The customer records known at the end of the as-of day, resolved into customers (macro
    resolved_customer_records; int_customer_records_resolved_for_backtest resolves them as of the backtest's
    calibration date). -#}
{{ resolved_customer_records(ref('stg_crm__customers'), as_of_date()) }}
