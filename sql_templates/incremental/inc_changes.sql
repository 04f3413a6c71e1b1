{{ config(
    description="Incremental: each id read again whose counted copy (rule 2, over the kept copy and the new ones) is new or differs from the kept one.",
    published=False,
) }}
{%- from "_macros.sql" import copy_order, differs, usable with context %}
{%- from "incremental/_events.sql" import event_columns with context %}
WITH candidates AS (
  SELECT {{ event_columns() }}
  FROM {{ ref('inc_batch') }}
  WHERE {{ usable() }}
  UNION ALL
  SELECT {{ event_columns() }}
  FROM {{ ref('inc_kept') }}
),
ranked AS (
  SELECT
    candidates.*,
    ROW_NUMBER() OVER (PARTITION BY id ORDER BY {{ copy_order() }}) AS copy_number
  FROM candidates
)
SELECT {{ event_columns("r.") }}
FROM ranked AS r
LEFT JOIN {{ ref('inc_kept') }} AS kept
  ON kept.id = r.id
WHERE r.copy_number = 1
  AND (kept.id IS NULL
    {%- for column in ["anonymous_id", "user_id", "timestamp", "event", "received_at"] %}
    OR {{ differs("kept." ~ column, "r." ~ column) }}
    {%- endfor %})
