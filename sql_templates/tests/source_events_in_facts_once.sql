{{ config(description="Every source event (after deduplication and the NULL rules) is in dbt_track_facts exactly once, and nothing else is.") }}
{%- from "_macros.sql" import usable with context %}
WITH events AS (
  SELECT id FROM {{ source() }} WHERE {{ usable() }} GROUP BY id
),
facts AS (
  SELECT event_id, COUNT(*) AS copies
  FROM {{ ref('dbt_track_facts') }}
  GROUP BY event_id
)
SELECT
  COALESCE(e.id, f.event_id) AS event_id,
  COALESCE(f.copies, 0) AS rows_in_facts,
  CASE
    WHEN e.id IS NULL THEN 'not a source event'
    WHEN f.event_id IS NULL THEN 'missing from dbt_track_facts'
    ELSE 'in dbt_track_facts more than once'
  END AS problem
FROM events AS e
FULL OUTER JOIN facts AS f
  ON f.event_id = e.id
WHERE e.id IS NULL OR f.event_id IS NULL OR f.copies <> 1
