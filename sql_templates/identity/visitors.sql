{{ config(description="Each component's visitor: the user_id of the earliest (timestamp, id) counted event whose user_id is in it.") }}
WITH ranked AS (
  SELECT
    c.component,
    e.user_id,
    ROW_NUMBER() OVER (PARTITION BY c.component ORDER BY e.timestamp, e.id) AS earliness
  FROM {{ ref('events') }} AS e
  JOIN {{ ref('components') }} AS c
    ON c.id = e.user_id
)
SELECT component, user_id AS visitor
FROM ranked
WHERE earliness = 1
