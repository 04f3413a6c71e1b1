{{ config(description="Links that keep the graph from being settled: settled, every linked node has one link, to a node that has none (its component's smallest node).") }}
WITH linked AS (
  SELECT node, COUNT(*) AS links FROM {{ ref('links') }} GROUP BY node
)
SELECT COUNT(*) AS unsettled
FROM {{ ref('links') }} AS l
JOIN linked AS own
  ON own.node = l.node
LEFT JOIN linked AS target
  ON target.node = l.smaller
WHERE own.links > 1 OR target.node IS NOT NULL
