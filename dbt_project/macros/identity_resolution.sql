{#- Pointer jumping, one step of identity resolution's label propagation: each record's label becomes the
    smaller of its label and its label's label (the label of the record its label points to), from a
    relation (customer_record_key, component_label). A select statement with the same two columns. -#}
{% macro identity_pointer_jump(labels) -%}
    {{ return(adapter.dispatch('identity_pointer_jump', 'clientele')(labels)) }}
{%- endmacro %}

{% macro default__identity_pointer_jump(labels) -%}
    select
        labelled.customer_record_key,
        least(labelled.component_label, coalesce(parent.component_label, labelled.component_label))
            as component_label

    from {{ labels }} as labelled
    left join {{ labels }} as parent
        on labelled.component_label = parent.customer_record_key
{%- endmacro %}

{#- The customer records known at the end of the day `as_of` (a SQL date expression, created before its end),
    from the record versions `customer_versions` (stg_crm__customers), resolved into customers.

    Identity resolution: connected components of the graph "customer record - shared normalised e-mail or
    phone - customer record", by min-label propagation with pointer jumping, unrolled into a fixed number of
    passes (var identity_resolution_passes). Each pass lowers every record's label to the smallest label
    among the records it shares an identifier with, then to the label of the record its label points to;
    labels converge to the smallest record key of the component. The test
    assert_shared_identifiers_resolve_to_one_customer_key fails if more passes were needed. -#}
{% macro resolved_customer_records(customer_versions, as_of) -%}
{%- set passes = var('identity_resolution_passes') | int -%}

with

customer_records as (

    select
        customer_record_key,
        source_profile,
        customer_id,
        email,
        phone,
        version_time

    from {{ customer_versions }}
    where {{ known_at(as_of_end(as_of)) }} and (created_at is null or created_at < {{ as_of_end(as_of) }})

),

identifiers as (

    select
        customer_record_key,
        {{ dbt.concat(["'email:'", 'email']) }} as identifier

    from customer_records
    where email is not null

    union all

    select
        customer_record_key,
        {{ dbt.concat(["'phone:'", 'phone']) }} as identifier

    from customer_records
    where phone is not null

),

linking_identifiers as (

    {#- Shared by 2+ records; shared by very many records = a placeholder such as info@ or 000000. #}
    select identifier

    from identifiers
    group by identifier
    having
        count(distinct customer_record_key) >= 2
        and count(distinct customer_record_key) <= {{ var('identity_max_records_per_identifier') }}

),

edges as (

    select distinct
        identifiers.customer_record_key,
        identifiers.identifier

    from identifiers
    inner join linking_identifiers
        on identifiers.identifier = linking_identifiers.identifier

),

labels_pass_0 as (

    select distinct
        customer_record_key,
        customer_record_key as component_label

    from edges

),

{% for pass in range(1, passes + 1) %}
identifier_labels_pass_{{ pass }} as (

    select
        edges.identifier,
        min(labels.component_label) as component_label

    from edges
    inner join labels_pass_{{ pass - 1 }} as labels
        on edges.customer_record_key = labels.customer_record_key
    group by edges.identifier

),

hooked_pass_{{ pass }} as (

    select
        edges.customer_record_key,
        min(identifier_labels.component_label) as component_label

    from edges
    inner join identifier_labels_pass_{{ pass }} as identifier_labels
        on edges.identifier = identifier_labels.identifier
    group by edges.customer_record_key

),

labels_pass_{{ pass }} as (

    {{ identity_pointer_jump('hooked_pass_' ~ pass) }}

),

{% endfor %}
components as (

    select
        customer_records.customer_record_key,
        customer_records.source_profile,
        customer_records.customer_id,
        customer_records.version_time,
        coalesce(labels.component_label, customer_records.customer_record_key) as anchor_record_key

    from customer_records
    left join labels_pass_{{ passes }} as labels
        on customer_records.customer_record_key = labels.customer_record_key

),

final as (

    select
        customer_record_key,
        source_profile,
        customer_id,
        {{ dbt.hash('anchor_record_key') }} as customer_key,
        anchor_record_key,
        row_number() over (
            partition by anchor_record_key
            order by version_time desc, customer_record_key asc
        ) = 1 as is_primary_record,
        count(*) over (partition by anchor_record_key) as records_in_customer

    from components

)

select * from final
{%- endmacro %}
