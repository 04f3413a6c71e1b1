{{ config(description="Each event tied to its session, numbered within it.", view=layout == "views") }}
SELECT anonymous_id, timestamp, event_id, event, session_id, dbt_visitor_id, track_sequence_number
FROM {{ ref('journey_events') }}
