{{ config(description="Every user_id and anonymous_id, with the visitor it stands for.") }}
{%- from "_macros.sql" import deduplicated_events with context %}
WITH events AS (
  {{ deduplicated_events() }}
),
user_ids AS (
  SELECT user_id FROM events WHERE user_id IS NOT NULL GROUP BY user_id
),
anonymous_ids AS (
  SELECT anonymous_id FROM events WHERE anonymous_id IS NOT NULL GROUP BY anonymous_id
),
identified AS (
  -- An anonymous id's latest identified event names its visitor (shared device: the later user).
  SELECT
    anonymous_id,
    user_id,
    ROW_NUMBER() OVER (PARTITION BY anonymous_id ORDER BY timestamp DESC, id DESC) AS recency
  FROM events
  WHERE anonymous_id IS NOT NULL AND user_id IS NOT NULL
)
SELECT user_id AS alias, user_id AS dbt_visitor_id
FROM user_ids
UNION ALL
SELECT a.anonymous_id AS alias, COALESCE(i.user_id, a.anonymous_id) AS dbt_visitor_id
FROM anonymous_ids AS a
LEFT JOIN identified AS i
  ON i.anonymous_id = a.anonymous_id AND i.recency = 1
LEFT JOIN user_ids AS u
  ON u.user_id = a.anonymous_id
WHERE u.user_id IS NULL
