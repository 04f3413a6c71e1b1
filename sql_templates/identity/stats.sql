{{ config(description="The identity figures of a graph run: components, the largest one (ids), the components and ids that fell back, placeholder ids.") }}
WITH sizes AS (
  SELECT component, MAX(component_ids) AS ids, MAX(falls_back) AS falls_back
  FROM {{ ref('components') }}
  GROUP BY component
)
SELECT
  COUNT(*) AS components,
  COALESCE(MAX(ids), 0) AS largest_component,
  COALESCE(SUM(falls_back), 0) AS fallback_components,
  COALESCE(SUM(falls_back * ids), 0) AS fallback_ids,
  (SELECT COUNT(*) FROM {{ ref('ids') }} WHERE is_placeholder = 1) AS placeholder_ids
FROM sizes
