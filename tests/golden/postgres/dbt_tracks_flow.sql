DROP VIEW IF EXISTS "journey"."dbt_tracks_flow";
CREATE VIEW "journey"."dbt_tracks_flow" AS
SELECT
  "event_id",
  "session_id",
  "track_sequence_number",
  "event",
  "dbt_visitor_id",
  "timestamp",
  "event_2",
  "event_3",
  "event_4",
  "event_5"
FROM "journey"."dbt_journey_events";
