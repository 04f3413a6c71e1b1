CREATE OR REPLACE VIEW "journey"."dbt_track_facts" AS
SELECT
  "anonymous_id",
  "timestamp",
  "event_id",
  "event",
  "session_id",
  "dbt_visitor_id",
  "track_sequence_number"
FROM "dbt_journey_events";
