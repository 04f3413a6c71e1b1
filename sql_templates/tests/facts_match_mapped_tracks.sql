{{ config(description="dbt_mapped_tracks and dbt_track_facts hold the same events, once each, with the same visitor, timestamp and name.") }}
{%- from "_macros.sql" import differs with context %}
WITH mapped AS (
  SELECT
    event_id, dbt_visitor_id, timestamp, event,
    COUNT(*) OVER (PARTITION BY event_id) AS copies
  FROM {{ ref('dbt_mapped_tracks') }}
),
facts AS (
  SELECT
    event_id, dbt_visitor_id, timestamp, event,
    COUNT(*) OVER (PARTITION BY event_id) AS copies
  FROM {{ ref('dbt_track_facts') }}
)
SELECT
  COALESCE(m.event_id, f.event_id) AS event_id,
  m.dbt_visitor_id AS mapped_visitor,
  f.dbt_visitor_id AS facts_visitor,
  CASE
    WHEN f.event_id IS NULL THEN 'missing from dbt_track_facts'
    WHEN m.event_id IS NULL THEN 'missing from dbt_mapped_tracks'
    WHEN m.copies > 1 OR f.copies > 1 THEN 'event repeated'
    WHEN {{ differs("m.dbt_visitor_id", "f.dbt_visitor_id") }} THEN 'different visitor'
    WHEN {{ differs("m.timestamp", "f.timestamp") }} THEN 'different timestamp'
    ELSE 'different event name'
  END AS problem
FROM mapped AS m
FULL OUTER JOIN facts AS f
  ON f.event_id = m.event_id
WHERE m.event_id IS NULL
  OR f.event_id IS NULL
  OR m.copies > 1
  OR f.copies > 1
  OR {{ differs("m.dbt_visitor_id", "f.dbt_visitor_id") }}
  OR {{ differs("m.timestamp", "f.timestamp") }}
  OR {{ differs("m.event", "f.event") }}
