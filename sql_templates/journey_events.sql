{{ config(
    description="Each event with its visitor, gap, session and next events, numbered once per visitor in (timestamp, id) order: the columns of the three event-level tables, which are views of it (layout views, published as dbt_journey_events) or tables made from it (layout tables, a working table).",
    published=layout == "views",
) }}
{%- from "_macros.sql" import deduplicated_events, minutes_between, starts_session with context %}
{%- set visitor_order = "PARTITION BY dbt_visitor_id ORDER BY timestamp, event_id" %}
{%- set visitor_rows = "PARTITION BY dbt_visitor_id ORDER BY visitor_event_number" %}
{%- set previous = "LAG(timestamp) OVER (" ~ visitor_order ~ ")" %}
{%- set previous = "COALESCE(" ~ previous ~ ", previous_timestamp)" if rows_from else previous %}
WITH mapped AS (
  SELECT e.id AS event_id, e.anonymous_id, m.dbt_visitor_id, e.timestamp, e.event
    {{- ", replaced.previous_timestamp, replaced.sessions_before" if rows_from }}
  FROM ({{ deduplicated_events() }}) AS e
  JOIN {{ ref('dbt_aliases_mapping') }} AS m
    ON m.alias = COALESCE(e.user_id, e.anonymous_id)
  {%- if rows_from %}
  -- An incremental run: each affected visitor's events from the time its rows are replaced,
  -- counted on from the sessions and the event before it (which this run leaves as they are)
  JOIN {{ ref(rows_from) }} AS replaced
    ON replaced.dbt_visitor_id = m.dbt_visitor_id
  {%- endif %}
),
ordered AS (
  -- The sort: each visitor's events in (timestamp, id) order, numbered, with the exact
  -- gap from the previous one. Only these two values are computed over the wide rows.
  SELECT
    event_id, anonymous_id, dbt_visitor_id, timestamp, event,{{ " sessions_before," if rows_from }}
    ROW_NUMBER() OVER ({{ visitor_order }}) AS visitor_event_number,
    {{ minutes_between(previous, "timestamp") }} AS idle_time_minutes
  FROM mapped
),
sessions AS (
  -- Over the numbered rows: a gap above the idle timeout (or none) starts a session; count
  -- them, remember where the current one began, and look at the next journey_length - 1
  -- events and their gaps (a later event is in the session while every gap up to it is).
  SELECT
    ordered.*,
    SUM(CASE WHEN {{ starts_session("idle_time_minutes") }} THEN 1 ELSE 0 END)
      OVER ({{ visitor_rows }} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
      {{- " + sessions_before" if rows_from }} AS session_number,
    MAX(CASE WHEN {{ starts_session("idle_time_minutes") }} THEN visitor_event_number END)
      OVER ({{ visitor_rows }} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_first_event_number
    {%- for k in range(1, journey_length) %},
    LEAD(event, {{ k }}) OVER ({{ visitor_rows }}) AS next_event_{{ k }},
    LEAD(idle_time_minutes, {{ k }}) OVER ({{ visitor_rows }}) AS next_gap_{{ k }}
    {%- endfor %}
  FROM ordered
)
-- dbt_tracks_flow's columns in its order, the other tables' columns between them: the
-- flow table is this table with those dropped.
SELECT
  event_id,
  anonymous_id,
  CAST(CAST(session_number AS BIGINT) AS VARCHAR) || ' - ' || dbt_visitor_id AS session_id,
  CAST(session_number AS BIGINT) AS session_sequence_number,
  CAST(visitor_event_number - session_first_event_number + 1 AS BIGINT) AS track_sequence_number,
  event,
  dbt_visitor_id,
  timestamp,
  idle_time_minutes
  {%- for k in range(1, journey_length) %},
  CASE
    WHEN {% for j in range(1, k + 1) %}next_gap_{{ j }} <= {{ idle_timeout_minutes }}{{ " AND " if not loop.last }}{% endfor %}
    THEN next_event_{{ k }}
  END AS event_{{ k + 1 }}
  {%- endfor %}
FROM sessions
