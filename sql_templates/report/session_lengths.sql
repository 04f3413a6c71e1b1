{#- How many sessions have 1, 2, … events (`cap` and more in one bucket). -#}
{%- from "_macros.sql" import capped with context %}
WITH per_session AS (
  SELECT {{ capped("COUNT(*)", cap) }} AS events
  FROM {{ ref('dbt_track_facts') }}
  GROUP BY session_id
)
SELECT events, COUNT(*) AS sessions
FROM per_session
GROUP BY events
ORDER BY events
