{{ config(description="session_id is unique in dbt_session_tracks.") }}
SELECT session_id, COUNT(*) AS copies
FROM {{ ref('dbt_session_tracks') }}
GROUP BY session_id
HAVING COUNT(*) > 1
