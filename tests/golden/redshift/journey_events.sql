DROP VIEW IF EXISTS "journey"."dbt_mapped_tracks";
DROP VIEW IF EXISTS "journey"."dbt_track_facts";
DROP VIEW IF EXISTS "journey"."dbt_tracks_flow";
DROP TABLE IF EXISTS "journey"."dbt_journey_events";
CREATE TABLE "journey"."dbt_journey_events" AS
WITH "mapped" AS (
  SELECT
    "e"."id" AS "event_id",
    "e"."anonymous_id",
    "m"."dbt_visitor_id",
    "e"."timestamp",
    "e"."event"
  FROM (
    SELECT
      "e"."id",
      "e"."anonymous_id",
      "e"."user_id",
      "e"."timestamp",
      "e"."event"
    FROM "rudder"."tracks" AS "e"
    LEFT JOIN "journey"."chosen_copies" AS "repeated"
      ON "repeated"."id" = "e"."id"
    WHERE
      "repeated"."id" IS NULL
      AND NOT "e"."id" IS NULL
      AND NOT "e"."timestamp" IS NULL
      AND (
        NOT "e"."anonymous_id" IS NULL OR NOT "e"."user_id" IS NULL
      )
    UNION ALL
    SELECT
      "id",
      "anonymous_id",
      "user_id",
      "timestamp",
      "event"
    FROM "journey"."chosen_copies"
  ) AS "e"
  JOIN "journey"."dbt_aliases_mapping" AS "m"
    ON "m"."alias" = COALESCE("e"."user_id", "e"."anonymous_id")
), "ordered" AS (
  /* The sort: each visitor's events in (timestamp, id) order, numbered, with the exact */
  /* gap from the previous one. Only these two values are computed over the wide rows. */
  SELECT
    "event_id",
    "anonymous_id",
    "dbt_visitor_id",
    "timestamp",
    "event",
    ROW_NUMBER() OVER (
      PARTITION BY "dbt_visitor_id"
      ORDER BY "timestamp" NULLS FIRST, "event_id" NULLS FIRST
    ) AS "visitor_event_number",
    CAST(DATEDIFF(
      MICROSECOND,
      LAG("timestamp") OVER (
        PARTITION BY "dbt_visitor_id"
        ORDER BY "timestamp" NULLS FIRST, "event_id" NULLS FIRST
      ),
      "timestamp"
    ) AS DOUBLE PRECISION) / 60000000.0 AS "idle_time_minutes"
  FROM "mapped"
), "sessions" AS (
  /* Over the numbered rows: a gap above the idle timeout (or none) starts a session; count */
  /* them, remember where the current one began, and look at the next journey_length - 1 */
  /* events and their gaps (a later event is in the session while every gap up to it is). */
  SELECT
    "ordered".*,
    SUM(
      CASE WHEN "idle_time_minutes" IS NULL OR "idle_time_minutes" > 30 THEN 1 ELSE 0 END
    ) OVER (
      PARTITION BY "dbt_visitor_id"
      ORDER BY "visitor_event_number" NULLS FIRST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "session_number",
    MAX(
      CASE
        WHEN "idle_time_minutes" IS NULL OR "idle_time_minutes" > 30
        THEN "visitor_event_number"
      END
    ) OVER (
      PARTITION BY "dbt_visitor_id"
      ORDER BY "visitor_event_number" NULLS FIRST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "session_first_event_number",
    LEAD("event", 1) OVER (PARTITION BY "dbt_visitor_id" ORDER BY "visitor_event_number" NULLS FIRST) AS "next_event_1",
    LEAD("idle_time_minutes", 1) OVER (PARTITION BY "dbt_visitor_id" ORDER BY "visitor_event_number" NULLS FIRST) AS "next_gap_1",
    LEAD("event", 2) OVER (PARTITION BY "dbt_visitor_id" ORDER BY "visitor_event_number" NULLS FIRST) AS "next_event_2",
    LEAD("idle_time_minutes", 2) OVER (PARTITION BY "dbt_visitor_id" ORDER BY "visitor_event_number" NULLS FIRST) AS "next_gap_2",
    LEAD("event", 3) OVER (PARTITION BY "dbt_visitor_id" ORDER BY "visitor_event_number" NULLS FIRST) AS "next_event_3",
    LEAD("idle_time_minutes", 3) OVER (PARTITION BY "dbt_visitor_id" ORDER BY "visitor_event_number" NULLS FIRST) AS "next_gap_3",
    LEAD("event", 4) OVER (PARTITION BY "dbt_visitor_id" ORDER BY "visitor_event_number" NULLS FIRST) AS "next_event_4",
    LEAD("idle_time_minutes", 4) OVER (PARTITION BY "dbt_visitor_id" ORDER BY "visitor_event_number" NULLS FIRST) AS "next_gap_4"
  FROM "ordered"
)
/* dbt_tracks_flow's columns in its order, the other tables' columns between them: the */
/* flow table is this table with those dropped. */
SELECT
  "event_id",
  "anonymous_id",
  CAST(CAST("session_number" AS BIGINT) AS VARCHAR) || ' - ' || "dbt_visitor_id" AS "session_id",
  CAST("session_number" AS BIGINT) AS "session_sequence_number",
  CAST("visitor_event_number" - "session_first_event_number" + 1 AS BIGINT) AS "track_sequence_number",
  "event",
  "dbt_visitor_id",
  "timestamp",
  "idle_time_minutes",
  CASE WHEN "next_gap_1" <= 30 THEN "next_event_1" END AS "event_2",
  CASE WHEN "next_gap_1" <= 30 AND "next_gap_2" <= 30 THEN "next_event_2" END AS "event_3",
  CASE
    WHEN "next_gap_1" <= 30 AND "next_gap_2" <= 30 AND "next_gap_3" <= 30
    THEN "next_event_3"
  END AS "event_4",
  CASE
    WHEN "next_gap_1" <= 30
    AND "next_gap_2" <= 30
    AND "next_gap_3" <= 30
    AND "next_gap_4" <= 30
    THEN "next_event_4"
  END AS "event_5"
FROM "sessions";
