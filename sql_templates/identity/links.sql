{{ config(description="Working table: the graph's edges, one per pair of ids some counted event carries together (neither a placeholder), stored once from the larger node to the smaller.") }}
SELECT DISTINCT
  CASE WHEN a.node > u.node THEN a.node ELSE u.node END AS node,
  CASE WHEN a.node > u.node THEN u.node ELSE a.node END AS smaller
FROM {{ ref('events') }} AS e
JOIN {{ ref('ids') }} AS a
  ON a.id = e.anonymous_id
JOIN {{ ref('ids') }} AS u
  ON u.id = e.user_id
WHERE a.is_placeholder = 0 AND u.is_placeholder = 0 AND a.node <> u.node
