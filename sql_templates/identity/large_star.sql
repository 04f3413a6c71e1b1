{{ config(description="Large-star step: each node's larger neighbours link to the smallest node of its neighbourhood (itself included) instead of to it.") }}
{%- from "identity/_macros.sql" import smallest_neighbours with context %}
WITH smallest AS (
  {{ smallest_neighbours(ref('links')) }}
)
SELECT DISTINCT l.node, COALESCE(s.smallest, l.smaller) AS smaller
FROM {{ ref('links') }} AS l
LEFT JOIN smallest AS s
  ON s.node = l.smaller
