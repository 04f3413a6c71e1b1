{{ config(
    description="Incremental: the affected visitors' events from the time their rows are replaced on, as the kept events will be after this run: the source the journey stages are recomputed from.",
    published=False,
) }}
{%- from "incremental/_events.sql" import event_columns, next_events with context %}
SELECT {{ event_columns("e.") }}
FROM ({{ next_events("COALESCE(user_id, anonymous_id) IN (SELECT alias FROM " ~ ref('inc_mapping') ~ ")") }}) AS e
JOIN {{ ref('inc_mapping') }} AS m
  ON m.alias = COALESCE(e.user_id, e.anonymous_id)
JOIN {{ ref('inc_replace_from') }} AS r
  ON r.dbt_visitor_id = m.dbt_visitor_id
WHERE e.timestamp >= r.replace_from
