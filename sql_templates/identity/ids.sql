{{ config(description="Working table: every distinct id (user and anonymous ids are one namespace), numbered densely so the graph works on integers; whether some counted event carries it as user_id; whether it is a placeholder.") }}
{%- from "identity/_macros.sql" import is_placeholder with context %}
WITH carried AS (
  SELECT user_id AS id, 1 AS is_user FROM {{ ref('events') }} WHERE user_id IS NOT NULL
  UNION ALL
  SELECT anonymous_id AS id, 0 AS is_user FROM {{ ref('events') }} WHERE anonymous_id IS NOT NULL
),
distinct_ids AS (
  SELECT id, MAX(is_user) AS is_user FROM carried GROUP BY id
)
SELECT
  id,
  ROW_NUMBER() OVER (ORDER BY id) AS node,
  is_user,
  CASE WHEN {{ is_placeholder("id") }} THEN 1 ELSE 0 END AS is_placeholder
FROM distinct_ids
