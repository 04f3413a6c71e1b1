{{ config(description="dbt_aliases_mapping in graph mode: the default rule's aliases, each mapped to its component's visitor; placeholders and the ids of components that fall back keep the default rule's visitor.") }}
WITH graph AS (
  SELECT c.id, COALESCE(v.visitor, c.id) AS visitor
  FROM {{ ref('components') }} AS c
  LEFT JOIN {{ ref('visitors') }} AS v
    ON v.component = c.component
  WHERE c.falls_back = 0
)
SELECT d.alias, COALESCE(g.visitor, d.dbt_visitor_id) AS dbt_visitor_id
FROM {{ ref('latest_user') }} AS d
LEFT JOIN graph AS g
  ON g.id = d.alias
