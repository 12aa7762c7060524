{#- Fails (one row) when the reporting currency has no rate in the fx_rates seed. -#}
with

reporting_rates as (

    select currency

    from {{ ref('fx_rates') }}
    where upper(trim(currency)) = upper('{{ var("reporting_currency") }}')

)

select '{{ var("reporting_currency") }}' as missing_reporting_currency

from (select count(*) as rates from reporting_rates) as counted
where counted.rates = 0
