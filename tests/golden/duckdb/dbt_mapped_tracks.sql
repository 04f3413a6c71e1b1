CREATE OR REPLACE VIEW "journey"."dbt_mapped_tracks" AS
SELECT
  "event_id",
  "anonymous_id",
  "dbt_visitor_id",
  "timestamp",
  "event",
  "idle_time_minutes"
FROM "dbt_journey_events";
