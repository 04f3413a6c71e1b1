{{ config(description="Working table: every id that is not a placeholder with its component (the smallest node in it), the component's size, and whether the component falls back to the default rule (more than max_users_per_visitor user ids).") }}
WITH labelled AS (
  SELECT i.id, i.is_user, COALESCE(l.smaller, i.node) AS component
  FROM {{ ref('ids') }} AS i
  LEFT JOIN {{ ref('links') }} AS l
    ON l.node = i.node
  WHERE i.is_placeholder = 0
)
SELECT
  id,
  is_user,
  component,
  COUNT(*) OVER (PARTITION BY component) AS component_ids,
  CASE WHEN SUM(is_user) OVER (PARTITION BY component) > {{ max_users_per_visitor }} THEN 1 ELSE 0 END AS falls_back
FROM labelled
