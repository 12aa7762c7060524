{%- set customer_types = {
    'company': 'company', 'business': 'company', 'b2b': 'company', 'enterprise': 'company',
    'organization': 'company', 'organisation': 'company', 'account': 'company', 'corporate': 'company',
    '企业': 'company', '公司': 'company', '企业客户': 'company',
    'person': 'person', 'individual': 'person', 'consumer': 'person', 'b2c': 'person',
    'private': 'person', '个人': 'person', '个人客户': 'person',
} -%}

{{ config(
    materialized=delete_insert_materialization(),
    unique_key='customer_record_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

source as (

    {{ usable_raw_rows('customers', [clean_text('ledger.source_profile'), clean_text('raw_rows.customer_id')]) }}

),

renamed as (

    select
        {{ clean_text('_source_profile') }} as source_profile,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('customer_name') }} as customer_name,
        {{ map_values('customer_type', customer_types, "'unknown'", when_null='unknown') }} as customer_type,
        {{ normalize_email('email') }} as email,
        {{ clean_text('phone') }} as phone_as_exported,
        {{ clean_text('country') }} as country_as_exported,
        {{ clean_text('province') }} as province,
        {{ clean_text('city') }} as city,
        {{ clean_text('industry') }} as industry,
        {{ clean_text('owner') }} as owner,
        {{ clean_text('lead_source') }} as lead_source,
        created_at,
        updated_at,
        _loaded_at as loaded_at,
        _accepted_seq as accepted_seq,
        _file_id as file_id,
        _source_row as source_row

    from source

),

versions as (

    {{ record_versions(
        'renamed',
        ['source_profile', 'customer_id'],
        [
            'customer_name', 'customer_type', 'email', 'phone_as_exported', 'country_as_exported', 'province',
            'city', 'industry', 'owner', 'lead_source', 'created_at',
        ],
        updated_at='updated_at',
    ) }}

),

provinces as (

    select
        {{ lookup_key('province_alias') }} as province_lookup_key,
        min(province) as province_name

    from {{ ref('provinces') }}
    group by {{ lookup_key('province_alias') }}

),

chinese_cities as (

    {#- A city is looked up by province and city where the province is known (宿州 and 苏州 are both "Suzhou");
        by its name alone otherwise, unless the spelling is shared by another city (shared_by in the seed). #}
    select
        province as province_name,
        {{ lookup_key('city_alias') }} as city_lookup_key,
        min(city_tier) as city_tier,
        max(case when shared_by is not null then 1 else 0 end) as is_shared_name

    from {{ ref('city_tiers') }}
    group by province, {{ lookup_key('city_alias') }}

),

city_names as (

    select
        city_lookup_key,
        min(city_tier) as city_tier,
        max(is_shared_name) as is_shared_name

    from chinese_cities
    group by city_lookup_key

),

countries as (

    select
        {{ lookup_key('country_alias') }} as country_lookup_key,
        min(country_code) as country_code,
        min(country_name) as country_name,
        min(calling_code) as calling_code,
        min(region) as region

    from {{ ref('countries') }}
    group by {{ lookup_key('country_alias') }}

),

city_tiered as (

    select
        versions.*,
        provinces.province_name,
        city_names.city_lookup_key is not null as is_listed_chinese_city,
        case
            when provinces.province_name is not null then province_cities.city_tier
            when city_names.is_shared_name = 0 then city_names.city_tier
        end as chinese_city_tier,
        provinces.province_name is null and coalesce(city_names.is_shared_name, 0) = 1 as is_ambiguous_city

    from versions
    left join provinces
        on {{ lookup_key('versions.province') }} = provinces.province_lookup_key
    left join chinese_cities as province_cities
        on
            provinces.province_name = province_cities.province_name
            and {{ lookup_key('versions.city') }} = province_cities.city_lookup_key
    left join city_names
        on {{ lookup_key('versions.city') }} = city_names.city_lookup_key

),

geocoded as (

    {#- A blank country with a listed Chinese city is China. #}
    select
        city_tiered.*,
        countries.country_code,
        countries.calling_code,
        coalesce(countries.country_name, city_tiered.country_as_exported) as country,
        coalesce(countries.region, 'unknown') as region

    from city_tiered
    left join countries
        on
            coalesce(
                {{ lookup_key('city_tiered.country_as_exported') }},
                case when city_tiered.is_listed_chinese_city then 'china' end
            ) = countries.country_lookup_key

),

final as (

    select
        {{ dbt.concat(['source_profile', "':'", 'customer_id']) }} as customer_record_key,
        source_profile,
        customer_id,
        customer_name,
        customer_type,
        email,
        {{ normalize_phone('phone_as_exported', 'calling_code') }} as phone,
        country_code,
        country,
        province,
        city,
        case
            when country_code = '{{ var("home_country_code") }}' and chinese_city_tier is not null then chinese_city_tier
            when country_code = '{{ var("home_country_code") }}' and city is not null and not is_ambiguous_city
                then 'tier_3_plus'
            when country_code is not null and country_code != '{{ var("home_country_code") }}' then 'international'
            else 'unknown'
        end as city_tier,
        region,
        case
            when country_code = '{{ var("home_country_code") }}' then 'domestic'
            when country_code is not null then 'foreign'
            else 'unknown'
        end as market_class,
        case
            when {{ is_core_region(['province_name', 'province', 'region']) }} then 'core' else 'non_core'
        end as region_class,
        industry,
        owner,
        lead_source,
        created_at,
        updated_at,
        version_number,
        version_time,
        valid_from,
        valid_to,
        loaded_at,
        accepted_seq,
        file_id,
        source_row

    from geocoded

)

select * from final
