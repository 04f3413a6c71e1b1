{{ config(
    description="Incremental: for each visitor whose events change, the time from which its rows are replaced (the start of its last session that begins before its earliest changed event, else that event's time), with what the rows from then on are counted from: the sessions before it and the visitor's previous event. The events before that event are the same after this run, so every row before that time is too, and the published tables already hold those numbers.",
    published=False,
) }}
{%- from "_macros.sql" import differs with context %}
{%- from "incremental/_events.sql" import next_events with context %}
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
moved_events AS (
  -- the moved aliases' events as this run leaves them
  SELECT COALESCE(e.user_id, e.anonymous_id) AS alias, e.timestamp
  FROM ({{ next_events("COALESCE(user_id, anonymous_id) IN (SELECT alias FROM moved)") }}) AS e
),
changes AS (
  -- where each visitor's events change: a new or changed event at its visitor ...
  SELECT m.dbt_visitor_id, changed.timestamp
  FROM {{ ref('inc_changes') }} AS changed
  JOIN {{ ref('inc_mapping') }} AS m
    ON m.alias = COALESCE(changed.user_id, changed.anonymous_id)
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
  FROM moved_events AS e
  JOIN moved_between
    ON moved_between.alias = e.alias
  WHERE moved_between.dbt_visitor_id IS NOT NULL
),
first_change AS (
  SELECT dbt_visitor_id, MIN(timestamp) AS changed_at
  FROM changes
  GROUP BY dbt_visitor_id
),
unchanged_sessions AS (
  -- the visitor's sessions that begin before its first change, as published (they begin the
  -- same after this run); the last of them is where its rows are replaced from
  SELECT
    f.dbt_visitor_id,
    f.changed_at,
    MAX(s.session_start_at) AS last_start,
    MAX(s.session_sequence_number) AS last_number
  FROM first_change AS f
  LEFT JOIN {{ ref('dbt_session_tracks') }} AS s
    ON s.dbt_visitor_id = f.dbt_visitor_id AND s.session_start_at < f.changed_at
  GROUP BY f.dbt_visitor_id, f.changed_at
)
SELECT
  u.dbt_visitor_id,
  COALESCE(u.last_start, u.changed_at) AS replace_from,
  CAST(COALESCE(u.last_number - 1, 0) AS BIGINT) AS sessions_before,
  MAX(t.timestamp) AS previous_timestamp
FROM unchanged_sessions AS u
LEFT JOIN {{ ref('dbt_mapped_tracks') }} AS t
  ON t.dbt_visitor_id = u.dbt_visitor_id AND t.timestamp < u.last_start
GROUP BY u.dbt_visitor_id, u.changed_at, u.last_start, u.last_number
