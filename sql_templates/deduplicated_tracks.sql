{{ config(
    description="Working table: the source's usable events, one copy per id (contract rules 1 and 2), deduplicated once for every stage.",
    published=False,
) }}
{%- from "_macros.sql" import deduplicated_events with context %}
{{ deduplicated_events() }}
