{#- A purchase day is a day with at least one completed order; several orders on one day count once (macro
    sequenced_purchase_days). -#}
{{ sequenced_purchase_days(ref('int_orders_resolved')) }}
