{{ config(
    description="Incremental: the affected visitors, whose every row is recomputed: the old and the new visitor of each touched alias (which covers the visitor of every changed event, before and after).",
    published=False,
) }}
WITH visitors AS (
  SELECT m.dbt_visitor_id
  FROM {{ ref('dbt_aliases_mapping') }} AS m
  JOIN {{ ref('inc_touched') }} AS t
    ON t.alias = m.alias
  UNION ALL
  SELECT dbt_visitor_id FROM {{ ref('inc_alias_delta') }}
)
SELECT dbt_visitor_id FROM visitors GROUP BY dbt_visitor_id
