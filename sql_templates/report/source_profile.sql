{#- How the contract's input rules treated the source: rows in, rows unusable (rule 1). -#}
{%- from "_macros.sql" import usable with context %}
SELECT
  COUNT(*) AS source_rows,
  COALESCE(SUM(CASE WHEN {{ usable() }} THEN 0 ELSE 1 END), 0) AS unusable_rows
FROM {{ source() }}
