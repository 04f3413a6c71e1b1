{{ config(description="Graph mode: each alias maps to the user_id of its component's earliest identified event by (timestamp, id); an id in a component with no user_id maps to itself.") }}
WITH identified AS (
  SELECT c.component, e.id, e.user_id, e.timestamp
  FROM {{ ref('events') }} AS e
  JOIN {{ ref('components') }} AS c
    ON c.id = e.user_id
),
first_moments AS (
  SELECT component, MIN(timestamp) AS first_at FROM identified GROUP BY component
),
first_events AS (
  SELECT i.component, MIN(i.id) AS first_event
  FROM identified AS i
  JOIN first_moments AS f
    ON f.component = i.component AND f.first_at = i.timestamp
  GROUP BY i.component
),
earliest_users AS (
  SELECT i.component, i.user_id
  FROM identified AS i
  JOIN first_events AS f
    ON f.component = i.component AND f.first_event = i.id
)
SELECT m.alias, m.dbt_visitor_id, u.user_id AS earliest_user
FROM {{ ref('components') }} AS c
JOIN {{ ref('aliases') }} AS m
  ON m.alias = c.id
LEFT JOIN earliest_users AS u
  ON u.component = c.component
WHERE c.falls_back = 0 AND m.dbt_visitor_id <> COALESCE(u.user_id, c.id)
