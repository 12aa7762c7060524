{#- Purchase days as known at the end of the backtest's calibration date (macro sequenced_purchase_days). -#}
{{ sequenced_purchase_days(ref('int_orders_resolved_for_backtest')) }}
