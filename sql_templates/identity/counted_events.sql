{{ config(description="The events the contract counts (rules 1 and 2), as the stages read them.") }}
{%- from "_macros.sql" import deduplicated_events with context %}
{{ deduplicated_events() }}
