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
