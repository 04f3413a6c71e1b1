DROP TABLE IF EXISTS "journey"."dbt_session_tracks";
CREATE TABLE "journey"."dbt_session_tracks" AS
SELECT
  "session_id",
  "dbt_visitor_id",
  "timestamp" AS "session_start_at",
  "session_sequence_number",
  LEAD("timestamp") OVER (PARTITION BY "dbt_visitor_id" ORDER BY "session_sequence_number" NULLS FIRST) AS "next_session_start_at"
FROM "journey"."dbt_journey_events"
WHERE
  "track_sequence_number" = 1;
