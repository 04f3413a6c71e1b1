{{ config(description="No gap above the idle timeout inside a session, and every session starts after a longer gap (or is the visitor's first): idle_time_minutes against dbt_track_facts.") }}
{%- from "_macros.sql" import starts_session with context %}
WITH events AS (
  SELECT
    f.event_id,
    f.session_id,
    f.track_sequence_number,
    m.idle_time_minutes,
    LAG(f.session_id) OVER (PARTITION BY f.dbt_visitor_id ORDER BY f.timestamp, f.event_id) AS previous_session_id
  FROM {{ ref('dbt_track_facts') }} AS f
  JOIN {{ ref('dbt_mapped_tracks') }} AS m
    ON m.event_id = f.event_id
)
SELECT
  event_id,
  session_id,
  track_sequence_number,
  idle_time_minutes,
  previous_session_id,
  CASE
    WHEN ({{ starts_session("idle_time_minutes") }}) THEN 'gap above the idle timeout inside a session'
    ELSE 'session starts after a gap within the idle timeout'
  END AS problem
FROM events
WHERE (
    ({{ starts_session("idle_time_minutes") }})
    AND (track_sequence_number <> 1 OR previous_session_id = session_id)
  )
  OR (
    NOT ({{ starts_session("idle_time_minutes") }})
    AND (track_sequence_number = 1 OR previous_session_id IS NULL OR previous_session_id <> session_id)
  )
