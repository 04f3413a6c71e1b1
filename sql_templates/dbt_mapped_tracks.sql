{{ config(description="Each deduplicated event with its visitor and the exact idle minutes since that visitor's previous event.", view=layout == "views") }}
SELECT event_id, anonymous_id, dbt_visitor_id, timestamp, event, idle_time_minutes
FROM {{ ref('journey_events') }}
