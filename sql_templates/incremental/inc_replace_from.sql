{{ config(
    description="Incremental: for each visitor whose events change, the time from which its rows are replaced: the start of its last session that begins before its earliest changed event, else that event's time. The events before that event are the same after this run, so every row before that time is too.",
    published=False,
) }}
{%- from "_macros.sql" import differs, minutes_between, starts_session with context %}
{%- set visitor_order = "PARTITION BY dbt_visitor_id ORDER BY timestamp, id" %}
WITH moved AS (
  -- the aliases whose visitor changes: all their events leave one visitor for another
  SELECT t.alias, old.dbt_visitor_id AS old_visitor, new.dbt_visitor_id AS new_visitor
  FROM {{ ref('inc_touched') }} AS t
  LEFT JOIN {{ ref('dbt_aliases_mapping') }} AS old
    ON old.alias = t.alias
  LEFT JOIN {{ ref('inc_alias_delta') }} AS new
    ON new.alias = t.alias
  WHERE {{ differs("old.dbt_visitor_id", "new.dbt_visitor_id") }}
),
moved_between AS (
  -- each moved alias at the visitor it leaves and at the one it joins
  SELECT alias, old_visitor AS dbt_visitor_id FROM moved
  UNION ALL
  SELECT alias, new_visitor AS dbt_visitor_id FROM moved
),
events AS (
  -- the affected visitors' events as this run leaves them, each at its visitor
  SELECT m.dbt_visitor_id, e.id, e.timestamp, COALESCE(e.user_id, e.anonymous_id) AS alias
  FROM {{ ref('inc_events') }} AS e
  JOIN {{ ref('inc_mapping') }} AS m
    ON m.alias = COALESCE(e.user_id, e.anonymous_id)
),
changes AS (
  -- where each visitor's events change: a new or changed event at its visitor ...
  SELECT e.dbt_visitor_id, e.timestamp
  FROM events AS e
  JOIN {{ ref('inc_changes') }} AS changed
    ON changed.id = e.id
  UNION ALL
  -- ... the kept version it replaces, at the visitor that version had ...
  SELECT old.dbt_visitor_id, kept.timestamp
  FROM {{ ref('inc_kept') }} AS kept
  JOIN {{ ref('inc_changes') }} AS changed
    ON changed.id = kept.id
  JOIN {{ ref('dbt_aliases_mapping') }} AS old
    ON old.alias = COALESCE(kept.user_id, kept.anonymous_id)
  UNION ALL
  -- ... and every event of a moved alias, at both of its visitors
  SELECT moved_between.dbt_visitor_id, e.timestamp
  FROM events AS e
  JOIN moved_between
    ON moved_between.alias = e.alias
  WHERE moved_between.dbt_visitor_id IS NOT NULL
),
first_change AS (
  SELECT dbt_visitor_id, MIN(timestamp) AS changed_at
  FROM changes
  GROUP BY dbt_visitor_id
),
gaps AS (
  -- the gaps journey_events computes; those before a visitor's first change are unchanged
  SELECT
    dbt_visitor_id,
    timestamp,
    {{ minutes_between("LAG(timestamp) OVER (" ~ visitor_order ~ ")", "timestamp") }} AS idle_time_minutes
  FROM events
),
session_starts AS (
  SELECT dbt_visitor_id, timestamp
  FROM gaps
  WHERE {{ starts_session("idle_time_minutes") }}
)
SELECT f.dbt_visitor_id, COALESCE(MAX(s.timestamp), f.changed_at) AS replace_from
FROM first_change AS f
LEFT JOIN session_starts AS s
  ON s.dbt_visitor_id = f.dbt_visitor_id AND s.timestamp < f.changed_at
GROUP BY f.dbt_visitor_id, f.changed_at
