CREATE OR REPLACE TABLE "journey"."dbt_mapped_tracks"
ENGINE=MergeTree
ORDER BY tuple() AS
SELECT
  "event_id",
  "anonymous_id",
  "dbt_visitor_id",
  "timestamp",
  "event",
  "idle_time_minutes"
FROM "journey"."journey_events"
SETTINGS prefer_column_name_to_alias = 1;
