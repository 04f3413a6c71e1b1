{#- How many visitors have 1, 2, … sessions (`cap` and more in one bucket). -#}
{%- from "_macros.sql" import capped with context %}
WITH per_visitor AS (
  SELECT {{ capped("COUNT(*)", cap) }} AS sessions
  FROM {{ ref('dbt_session_tracks') }}
  GROUP BY dbt_visitor_id
)
SELECT sessions, COUNT(*) AS visitors
FROM per_visitor
GROUP BY sessions
ORDER BY sessions
