CREATE OR REPLACE TABLE "journey"."dbt_session_tracks"
ENGINE=MergeTree
ORDER BY tuple() AS
SELECT
  "session_id",
  "dbt_visitor_id",
  "timestamp" AS "session_start_at",
  "session_sequence_number",
  lead(toNullable("timestamp")) OVER (PARTITION BY "dbt_visitor_id" ORDER BY "session_sequence_number" NULLS FIRST) AS "next_session_start_at"
FROM "journey"."dbt_journey_events"
WHERE
  "track_sequence_number" = 1
SETTINGS prefer_column_name_to_alias = 1;
