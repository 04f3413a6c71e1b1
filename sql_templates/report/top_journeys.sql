{#- The most common session openings: each session's first journey_length events. -#}
SELECT
  event
  {%- for k in range(2, journey_length + 1) %},
  event_{{ k }}
  {%- endfor %},
  COUNT(*) AS sessions
FROM {{ ref('dbt_tracks_flow') }}
WHERE track_sequence_number = 1
GROUP BY
  event
  {%- for k in range(2, journey_length + 1) %},
  event_{{ k }}
  {%- endfor %}
ORDER BY sessions DESC, event
  {%- for k in range(2, journey_length + 1) %},
  event_{{ k }}
  {%- endfor %}
LIMIT {{ top }}
