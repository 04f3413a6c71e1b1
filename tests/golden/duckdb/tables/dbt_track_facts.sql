CREATE OR REPLACE TABLE "journey"."dbt_track_facts" AS
SELECT
  "anonymous_id",
  "timestamp",
  "event_id",
  "event",
  "session_id",
  "dbt_visitor_id",
  "track_sequence_number"
FROM "journey"."journey_events";
