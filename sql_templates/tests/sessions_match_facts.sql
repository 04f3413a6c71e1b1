{{ config(description="dbt_session_tracks and dbt_track_facts name the same sessions, with the same visitor; session_start_at is the session's first event.") }}
{%- from "_macros.sql" import differs with context %}
WITH facts AS (
  SELECT
    session_id,
    MIN(dbt_visitor_id) AS dbt_visitor_id,
    COUNT(DISTINCT dbt_visitor_id) AS visitors,
    MIN(timestamp) AS first_event_at
  FROM {{ ref('dbt_track_facts') }}
  GROUP BY session_id
)
SELECT
  COALESCE(s.session_id, f.session_id) AS session_id,
  s.session_start_at,
  f.first_event_at,
  CASE
    WHEN f.session_id IS NULL THEN 'session without events in dbt_track_facts'
    WHEN s.session_id IS NULL THEN 'missing from dbt_session_tracks'
    WHEN f.visitors > 1 THEN 'events of several visitors'
    WHEN {{ differs("s.dbt_visitor_id", "f.dbt_visitor_id") }} THEN 'different visitor'
    ELSE 'session_start_at is not its first event'
  END AS problem
FROM {{ ref('dbt_session_tracks') }} AS s
FULL OUTER JOIN facts AS f
  ON f.session_id = s.session_id
WHERE s.session_id IS NULL
  OR f.session_id IS NULL
  OR f.visitors > 1
  OR {{ differs("s.dbt_visitor_id", "f.dbt_visitor_id") }}
  OR {{ differs("s.session_start_at", "f.first_event_at") }}
