ALTER TABLE "journey"."journey_events"
DROP COLUMN "anonymous_id";
ALTER TABLE "journey"."journey_events"
DROP COLUMN "session_sequence_number";
ALTER TABLE "journey"."journey_events"
DROP COLUMN "idle_time_minutes";
DROP TABLE IF EXISTS "journey"."dbt_tracks_flow";
RENAME TABLE "journey"."journey_events" TO "journey"."dbt_tracks_flow";
