{{ config(
    description="Incremental: the new dbt_aliases_mapping rows of the touched aliases (an alias no event names any more has none), by the same rule as a full run over the events that name them.",
    published=False,
) }}
{%- from "_macros.sql" import aliases_from with context %}
{%- from "incremental/_events.sql" import next_events with context %}
{%- set touched_events %}
SELECT e.id, e.anonymous_id, e.user_id, e.timestamp, e.event
FROM ({{ next_events("anonymous_id IN (SELECT alias FROM " ~ ref('inc_touched') ~ ") OR user_id IN (SELECT alias FROM " ~ ref('inc_touched') ~ ")") }}) AS e
{%- endset %}
SELECT mapping.alias, mapping.dbt_visitor_id
{%- if identity == "graph" %}
FROM {{ ref('inc_graph_mapping') }} AS mapping
{%- else %}
FROM ({{ aliases_from(touched_events) }}) AS mapping
{%- endif %}
WHERE mapping.alias IN (SELECT alias FROM {{ ref('inc_touched') }})
