{{ config(
    description="Incremental: the kept copy of each id read again (the history is looked up once; the other stages weigh and compare against this).",
    published=False,
) }}
{%- from "incremental/_events.sql" import event_columns with context %}
SELECT {{ event_columns("kept.") }}
FROM {{ ref('journeyctl_events') }} AS kept
JOIN (SELECT id AS read_id FROM {{ ref('inc_batch') }} GROUP BY id) AS read_again
  ON read_again.read_id = kept.id
