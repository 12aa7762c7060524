{#- Fails (one row) when the reporting currency has no rate in the fx_rates seed. -#}
select '{{ var("reporting_currency") }}' as reporting_currency

where not exists (
    select 1
    from {{ ref('fx_rates') }}
    where upper(trim(currency)) = upper('{{ var("reporting_currency") }}')
)
