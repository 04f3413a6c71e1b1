{#- How long sessions last, first event to last, in buckets (bucket number, label, sessions). -#}
{%- from "_macros.sql" import minutes_between with context %}
{%- set buckets = [(0, "0 s"), (1, "under 1 min"), (5, "1-5 min"), (15, "5-15 min"),
                   (30, "15-30 min"), (60, "30-60 min"), (120, "1-2 h")] %}
WITH per_session AS (
  SELECT {{ minutes_between("MIN(timestamp)", "MAX(timestamp)") }} AS minutes
  FROM {{ ref('dbt_track_facts') }}
  GROUP BY session_id
),
bucketed AS (
  SELECT
    CASE
      WHEN minutes = 0 THEN 0
      {%- for limit, label in buckets[1:] %}
      WHEN minutes < {{ limit }} THEN {{ loop.index }}
      {%- endfor %}
      ELSE {{ buckets | length }}
    END AS bucket
  FROM per_session
)
SELECT
  bucket,
  CASE bucket
    {%- for limit, label in buckets %}
    WHEN {{ loop.index0 }} THEN '{{ label }}'
    {%- endfor %}
    ELSE '2 h and more'
  END AS duration,
  COUNT(*) AS sessions
FROM bucketed
GROUP BY bucket
ORDER BY bucket
