{{ config(description="track_sequence_number runs 1, 2, … n within each session in (timestamp, id) order, without holes or repeats.") }}
WITH numbered AS (
  SELECT
    event_id,
    session_id,
    track_sequence_number,
    ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY timestamp, event_id) AS expected_number
  FROM {{ ref('dbt_track_facts') }}
)
SELECT event_id, session_id, track_sequence_number, expected_number
FROM numbered
WHERE track_sequence_number IS NULL OR track_sequence_number <> expected_number
