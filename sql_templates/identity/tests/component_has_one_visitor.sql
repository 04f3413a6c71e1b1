{{ config(description="Graph mode: every id of a component (one that does not fall back) is an alias in dbt_aliases_mapping, and all of them map to one visitor.") }}
SELECT
  MIN(c.id) AS some_alias,
  COUNT(*) AS ids,
  COUNT(m.alias) AS aliases,
  COUNT(DISTINCT m.dbt_visitor_id) AS visitors,
  MIN(m.dbt_visitor_id) AS one_visitor,
  MAX(m.dbt_visitor_id) AS another_visitor
FROM {{ ref('components') }} AS c
LEFT JOIN {{ ref('aliases') }} AS m
  ON m.alias = c.id
WHERE c.falls_back = 0
GROUP BY c.component
HAVING COUNT(DISTINCT m.dbt_visitor_id) > 1 OR COUNT(m.alias) <> COUNT(*)
