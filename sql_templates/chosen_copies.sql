{{ config(
    description="Working table: for each id delivered more than once, the one copy that counts (contract rule 2). Ids seen once need no choice, so only the repeats are sorted.",
    published=False,
) }}
{%- from "_macros.sql" import copy_order, usable with context %}
WITH usable_rows AS (
  SELECT id, anonymous_id, user_id, timestamp, event{{ ", received_at" if has_received_at }}
  FROM {{ source() }}
  WHERE {{ usable() }}
),
repeats AS (
  SELECT usable_rows.*
  FROM usable_rows
  JOIN (SELECT id AS repeated_id FROM usable_rows GROUP BY id HAVING COUNT(*) > 1) AS repeated
    ON repeated.repeated_id = usable_rows.id
),
ranked AS (
  SELECT
    repeats.*,
    ROW_NUMBER() OVER (PARTITION BY id ORDER BY {{ copy_order() }}) AS copy_number
  FROM repeats
)
SELECT id, anonymous_id, user_id, timestamp, event{{ ", received_at" if has_received_at }}
FROM ranked
WHERE copy_number = 1
