{{ config(
    description="Incremental: the ids (anonymous and user) of every changed event, old and new version: the only aliases whose visitor can change.",
    published=False,
) }}
WITH versions AS (
  SELECT anonymous_id, user_id FROM {{ ref('inc_changes') }}
  UNION ALL
  SELECT kept.anonymous_id, kept.user_id
  FROM {{ ref('journeyctl_events') }} AS kept
  JOIN {{ ref('inc_changes') }} AS changed
    ON changed.id = kept.id
),
ids AS (
  SELECT anonymous_id AS alias FROM versions WHERE anonymous_id IS NOT NULL
  UNION ALL
  SELECT user_id AS alias FROM versions WHERE user_id IS NOT NULL
)
SELECT alias FROM ids GROUP BY alias
