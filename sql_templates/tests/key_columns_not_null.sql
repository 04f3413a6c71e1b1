{{ config(description="Key columns are never NULL: ids, visitors, timestamps, session numbers.") }}
{%- set keys = {
    "dbt_aliases_mapping": ["alias", "dbt_visitor_id"],
    "dbt_mapped_tracks": ["event_id", "dbt_visitor_id", "timestamp"],
    "dbt_session_tracks": ["session_id", "dbt_visitor_id", "session_start_at", "session_sequence_number"],
    "dbt_track_facts": ["event_id", "session_id", "dbt_visitor_id", "timestamp", "track_sequence_number"],
    "dbt_tracks_flow": ["event_id", "session_id", "dbt_visitor_id", "timestamp", "track_sequence_number"],
} %}
WITH null_counts AS (
  {%- for table, columns in keys.items() %}
  {%- set outer = loop %}
  {%- for column in columns %}
  SELECT '{{ table }}' AS table_name, '{{ column }}' AS column_name,
    SUM(CASE WHEN {{ column }} IS NULL THEN 1 ELSE 0 END) AS null_rows
  FROM {{ ref(table) }}
  {{- "\n  UNION ALL" if not (outer.last and loop.last) }}
  {%- endfor %}
  {%- endfor %}
)
SELECT table_name, column_name, null_rows
FROM null_counts
WHERE null_rows > 0
