{{ config(description="Each event with the names of the next events of its session (journey length N: event_2 … event_N).", view=layout == "views") }}
SELECT
  event_id,
  session_id,
  track_sequence_number,
  event,
  dbt_visitor_id,
  timestamp
  {%- for k in range(2, journey_length + 1) %},
  event_{{ k }}
  {%- endfor %}
FROM {{ ref('journey_events') }}
