{#- Per event: how many sessions it opens, how many it ends, and how often it happens. -#}
WITH positions AS (
  SELECT
    event,
    track_sequence_number,
    MAX(track_sequence_number) OVER (PARTITION BY session_id) AS session_events
  FROM {{ ref('dbt_track_facts') }}
)
SELECT
  event,
  SUM(CASE WHEN track_sequence_number = 1 THEN 1 ELSE 0 END) AS entries,
  SUM(CASE WHEN track_sequence_number = session_events THEN 1 ELSE 0 END) AS exits,
  COUNT(*) AS events
FROM positions
GROUP BY event
ORDER BY entries DESC, exits DESC, event
