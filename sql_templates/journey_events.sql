{{ config(
    description="Working table: each event with its visitor, gap, session and next events, from one sorted pass; the published tables are projections of it.",
    published=False,
) }}
{%- from "_macros.sql" import minutes_between, starts_session with context %}
{%- set visitor_order = "PARTITION BY dbt_visitor_id ORDER BY timestamp, event_id" %}
{%- set so_far = "PARTITION BY dbt_visitor_id ORDER BY visitor_event_number ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW" %}
WITH mapped AS (
  SELECT e.id AS event_id, e.anonymous_id, m.dbt_visitor_id, e.timestamp, e.event
  FROM {{ ref('deduplicated_tracks') }} AS e
  JOIN {{ ref('dbt_aliases_mapping') }} AS m
    ON m.alias = COALESCE(e.user_id, e.anonymous_id)
),
ordered AS (
  -- The one sort: each visitor's events in (timestamp, id) order, with the previous
  -- event's time and the next journey_length - 1 events and their times.
  SELECT
    event_id, anonymous_id, dbt_visitor_id, timestamp, event,
    ROW_NUMBER() OVER ({{ visitor_order }}) AS visitor_event_number,
    LAG(timestamp) OVER ({{ visitor_order }}) AS previous_timestamp
    {%- for k in range(1, journey_length) %},
    LEAD(event, {{ k }}) OVER ({{ visitor_order }}) AS next_event_{{ k }},
    LEAD(timestamp, {{ k }}) OVER ({{ visitor_order }}) AS next_timestamp_{{ k }}
    {%- endfor %}
  FROM mapped
),
steps AS (
  -- The exact gap from the previous event, and the next events while the session lasts
  -- (each gap up to them within the timeout); only what the output needs goes on.
  SELECT
    event_id, anonymous_id, dbt_visitor_id, timestamp, event, visitor_event_number,
    {{ minutes_between("previous_timestamp", "timestamp") }} AS idle_time_minutes
    {%- for k in range(1, journey_length) %},
    CASE
      WHEN {% for j in range(1, k + 1) -%}
        {{ minutes_between("timestamp" if j == 1 else "next_timestamp_" ~ (j - 1), "next_timestamp_" ~ j) }} <= {{ idle_timeout_minutes }}
        {{- " AND " if not loop.last }}
      {%- endfor %}
      THEN next_event_{{ k }}
    END AS event_{{ k + 1 }}
    {%- endfor %}
  FROM ordered
),
sessions AS (
  -- A gap above the idle timeout (or none) starts a session; count them, and remember
  -- where the current session began to number its events.
  SELECT
    steps.*,
    SUM(CASE WHEN {{ starts_session("idle_time_minutes") }} THEN 1 ELSE 0 END)
      OVER ({{ so_far }}) AS session_number,
    MAX(CASE WHEN {{ starts_session("idle_time_minutes") }} THEN visitor_event_number END)
      OVER ({{ so_far }}) AS session_first_event_number
  FROM steps
)
SELECT
  event_id,
  anonymous_id,
  dbt_visitor_id,
  timestamp,
  event,
  idle_time_minutes,
  CAST(session_number AS BIGINT) AS session_sequence_number,
  CAST(CAST(session_number AS BIGINT) AS VARCHAR) || ' - ' || dbt_visitor_id AS session_id,
  CAST(visitor_event_number - session_first_event_number + 1 AS BIGINT) AS track_sequence_number
  {%- for k in range(2, journey_length + 1) %},
  event_{{ k }}
  {%- endfor %}
FROM sessions
