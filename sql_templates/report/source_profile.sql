{#- How the contract's input rules treated the source: rows in, rows unusable (rule 1). -#}
SELECT
  COUNT(*) AS source_rows,
  COALESCE(SUM(
    CASE
      WHEN id IS NULL OR timestamp IS NULL OR (anonymous_id IS NULL AND user_id IS NULL) THEN 1
      ELSE 0
    END
  ), 0) AS unusable_rows
FROM {{ source() }}
