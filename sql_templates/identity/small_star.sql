{{ config(description="Small-star step: each node and its smaller neighbours all link to the smallest of them.") }}
{%- from "identity/_macros.sql" import smallest_neighbours with context %}
WITH smallest AS (
  {{ smallest_neighbours(ref('links')) }}
)
SELECT node, smallest AS smaller
FROM smallest
UNION
SELECT l.smaller AS node, s.smallest AS smaller
FROM {{ ref('links') }} AS l
JOIN smallest AS s
  ON s.node = l.node
WHERE l.smaller <> s.smallest
