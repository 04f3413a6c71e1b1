{{ config(description="Every user_id and anonymous_id, with the visitor it stands for.") }}
{%- from "_macros.sql" import aliases_from, deduplicated_events with context %}
{{ aliases_from(deduplicated_events()) }}
