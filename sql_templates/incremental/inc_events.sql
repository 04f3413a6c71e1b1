{{ config(
    description="Incremental: every event of the affected visitors, as the kept events will be after this run: the source the journey stages are recomputed from.",
    published=False,
) }}
{%- from "incremental/_events.sql" import event_columns, next_events with context %}
SELECT {{ event_columns("e.") }}
FROM ({{ next_events("COALESCE(user_id, anonymous_id) IN (SELECT alias FROM " ~ ref('inc_mapping') ~ ")") }}) AS e
