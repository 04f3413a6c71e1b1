{#- One row: how ids became visitors (either identity rule): aliases, visitors, the visitors
    that stand for more than one id, and the most ids one visitor has. -#}
WITH per_visitor AS (
  SELECT dbt_visitor_id, COUNT(*) AS ids
  FROM {{ ref('dbt_aliases_mapping') }}
  GROUP BY dbt_visitor_id
)
SELECT
  COALESCE(SUM(ids), 0) AS aliases,
  COUNT(*) AS visitors,
  COALESCE(SUM(CASE WHEN ids > 1 THEN 1 ELSE 0 END), 0) AS stitched_visitors,
  COALESCE(MAX(ids), 0) AS most_ids
FROM per_visitor
