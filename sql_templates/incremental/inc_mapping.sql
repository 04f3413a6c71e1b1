{{ config(
    description="Incremental: the new mapping of every alias of an affected visitor: what the journey stages join the affected events with.",
    published=False,
) }}
SELECT m.alias, m.dbt_visitor_id
FROM {{ ref('dbt_aliases_mapping') }} AS m
JOIN {{ ref('inc_visitors') }} AS v
  ON v.dbt_visitor_id = m.dbt_visitor_id
LEFT JOIN {{ ref('inc_touched') }} AS t
  ON t.alias = m.alias
WHERE t.alias IS NULL
UNION ALL
SELECT alias, dbt_visitor_id FROM {{ ref('inc_alias_delta') }}
