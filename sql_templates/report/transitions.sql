{#- Event → next event within a session, with how often it happens; the `top` most common. -#}
SELECT event, event_2 AS next_event, COUNT(*) AS transitions
FROM {{ ref('dbt_tracks_flow') }}
WHERE event_2 IS NOT NULL
GROUP BY event, event_2
ORDER BY transitions DESC, event, next_event
LIMIT {{ top }}
