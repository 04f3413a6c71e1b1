{{ config(description="idle_time_minutes is the exact time since the visitor's previous event in (timestamp, id) order (to 1e-9), NULL for the first.") }}
{%- from "_macros.sql" import minutes_between with context %}
WITH gaps AS (
  SELECT
    event_id,
    dbt_visitor_id,
    idle_time_minutes,
    {{ minutes_between("LAG(timestamp) OVER (PARTITION BY dbt_visitor_id ORDER BY timestamp, event_id)", "timestamp") }} AS expected_minutes
  FROM {{ ref('dbt_mapped_tracks') }}
)
SELECT event_id, dbt_visitor_id, idle_time_minutes, expected_minutes
FROM gaps
WHERE ABS(idle_time_minutes - expected_minutes) > 0.000000001
  OR (idle_time_minutes IS NULL AND expected_minutes IS NOT NULL)
  OR (idle_time_minutes IS NOT NULL AND expected_minutes IS NULL)
