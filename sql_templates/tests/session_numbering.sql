{{ config(description="Each visitor's sessions are numbered 1, 2, … by start; session_id is '<number> - <visitor>'; next_session_start_at is the next session's start.") }}
{%- from "_macros.sql" import differs with context %}
{%- set visitor_order = "PARTITION BY dbt_visitor_id ORDER BY session_start_at, session_id" %}
WITH expected AS (
  SELECT
    session_id,
    dbt_visitor_id,
    session_sequence_number,
    next_session_start_at,
    ROW_NUMBER() OVER ({{ visitor_order }}) AS expected_number,
    LEAD(session_start_at) OVER ({{ visitor_order }}) AS expected_next_start_at
  FROM {{ ref('dbt_session_tracks') }}
)
SELECT
  session_id,
  session_sequence_number,
  expected_number,
  next_session_start_at,
  expected_next_start_at
FROM expected
WHERE {{ differs("session_sequence_number", "expected_number") }}
  OR {{ differs("session_id", "CAST(expected_number AS VARCHAR) || ' - ' || dbt_visitor_id") }}
  OR {{ differs("next_session_start_at", "expected_next_start_at") }}
