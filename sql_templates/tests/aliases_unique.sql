{{ config(description="Each alias appears once in dbt_aliases_mapping (it maps to one visitor).") }}
SELECT alias, COUNT(*) AS copies, MIN(dbt_visitor_id) AS one_visitor, MAX(dbt_visitor_id) AS another_visitor
FROM {{ ref('dbt_aliases_mapping') }}
GROUP BY alias
HAVING COUNT(*) > 1
