DROP TABLE IF EXISTS "journey"."dbt_track_facts";
CREATE TABLE "journey"."dbt_track_facts" AS
SELECT
  "anonymous_id",
  "timestamp",
  "event_id",
  "event",
  "session_id",
  "dbt_visitor_id",
  "track_sequence_number"
FROM "journey"."journey_events";
