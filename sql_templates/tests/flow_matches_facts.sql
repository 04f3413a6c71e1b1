{{ config(description="dbt_tracks_flow has one row per event of dbt_track_facts, and event_2 … event_N are the next events of its session (LEAD over the facts).") }}
{%- from "_macros.sql" import differs with context %}
{%- set session_order = "PARTITION BY session_id ORDER BY timestamp, event_id" %}
{%- set same_as_facts = ["session_id", "track_sequence_number", "event", "dbt_visitor_id", "timestamp"] %}
WITH facts AS (
  SELECT
    event_id, session_id, track_sequence_number, event, dbt_visitor_id, timestamp
    {%- for k in range(2, journey_length + 1) %},
    LEAD(event, {{ k - 1 }}) OVER ({{ session_order }}) AS event_{{ k }}
    {%- endfor %}
  FROM {{ ref('dbt_track_facts') }}
),
flow AS (
  SELECT
    *,
    COUNT(*) OVER (PARTITION BY event_id) AS copies
  FROM {{ ref('dbt_tracks_flow') }}
)
SELECT
  COALESCE(w.event_id, f.event_id) AS event_id,
  COALESCE(w.session_id, f.session_id) AS session_id,
  CASE
    WHEN f.event_id IS NULL THEN 'not in dbt_track_facts'
    WHEN w.event_id IS NULL THEN 'missing from dbt_tracks_flow'
    WHEN w.copies > 1 THEN 'in dbt_tracks_flow more than once'
    {%- for column in same_as_facts %}
    WHEN {{ differs("w." ~ column, "f." ~ column) }} THEN '{{ column }} differs from dbt_track_facts'
    {%- endfor %}
    {%- for k in range(2, journey_length + 1) %}
    WHEN {{ differs("w.event_" ~ k, "f.event_" ~ k) }} THEN 'event_{{ k }} is not the event {{ k - 1 }} after this one in the session'
    {%- endfor %}
  END AS problem
FROM flow AS w
FULL OUTER JOIN facts AS f
  ON f.event_id = w.event_id
WHERE w.event_id IS NULL
  OR f.event_id IS NULL
  OR w.copies > 1
  {%- for column in same_as_facts %}
  OR {{ differs("w." ~ column, "f." ~ column) }}
  {%- endfor %}
  {%- for k in range(2, journey_length + 1) %}
  OR {{ differs("w.event_" ~ k, "f.event_" ~ k) }}
  {%- endfor %}
