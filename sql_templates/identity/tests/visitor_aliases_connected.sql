{{ config(description="Graph mode: no two aliases of one visitor are disconnected (a visitor's aliases, placeholders and fallen-back ids aside, lie in one component).") }}
SELECT
  m.dbt_visitor_id,
  COUNT(DISTINCT c.component) AS components,
  MIN(m.alias) AS one_alias,
  MAX(m.alias) AS another_alias
FROM {{ ref('aliases') }} AS m
JOIN {{ ref('components') }} AS c
  ON c.id = m.alias
WHERE c.falls_back = 0
GROUP BY m.dbt_visitor_id
HAVING COUNT(DISTINCT c.component) > 1
