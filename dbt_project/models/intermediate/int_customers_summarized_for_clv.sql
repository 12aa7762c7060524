{#- The calibration summary of the purchase and spend models as of as_of (macro clv_calibration_summary). -#}
{{ clv_calibration_summary(ref('int_purchase_days_sequenced'), as_of_date()) }}
