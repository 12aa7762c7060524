{#- Lower-cased, trimmed e-mail; null unless it looks like local@domain.tld. -#}
{% macro normalize_email(expression) -%}
    case
        when lower(trim({{ expression }})) like '_%@_%._%'
            and lower(trim({{ expression }})) not like '% %'
            then lower(trim({{ expression }}))
    end
{%- endmacro %}

{#- Phone as digits with country calling code (E.164 without "+"): an explicit "+" or "00" prefix is
    kept; a national trunk "0" is replaced by the country's calling code; a number already starting with
    the calling code and long enough to carry it is kept; otherwise the calling code is prepended.
    Results outside 8-15 digits are null. -#}
{% macro normalize_phone(phone, calling_code) -%}
    {%- set trimmed = 'trim(' ~ phone ~ ')' -%}
    {%- set digits = regexp_replace_all(phone, '[^0-9]', '') -%}
    {%- set with_country_code -%}
        case
            when {{ trimmed }} like '+%' then {{ digits }}
            when {{ digits }} like '00%' then substring({{ digits }}, 3)
            when {{ calling_code }} is null then {{ digits }}
            when {{ digits }} like '0%' then {{ dbt.concat([calling_code, 'substring(' ~ digits ~ ', 2)']) }}
            when {{ digits }} like {{ dbt.concat([calling_code, "'%'"]) }}
                and length({{ digits }}) >= length({{ calling_code }}) + 9
                then {{ digits }}
            else {{ dbt.concat([calling_code, digits]) }}
        end
    {%- endset -%}
    case when length({{ with_country_code }}) between 8 and 15 then {{ with_country_code }} end
{%- endmacro %}
