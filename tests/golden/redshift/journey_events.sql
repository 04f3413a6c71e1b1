DROP TABLE IF EXISTS "journey"."journey_events";
CREATE TABLE "journey"."journey_events" AS
WITH "mapped" AS (
  SELECT
    "e"."id" AS "event_id",
    "e"."anonymous_id",
    "m"."dbt_visitor_id",
    "e"."timestamp",
    "e"."event"
  FROM "journey"."deduplicated_tracks" AS "e"
  JOIN "journey"."dbt_aliases_mapping" AS "m"
    ON "m"."alias" = COALESCE("e"."user_id", "e"."anonymous_id")
), "ordered" AS (
  /* The one sort: each visitor's events in (timestamp, id) order, with the previous */
  /* event's time and the next journey_length - 1 events and their times. */
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
    LAG("timestamp") OVER (
      PARTITION BY "dbt_visitor_id"
      ORDER BY "timestamp" NULLS FIRST, "event_id" NULLS FIRST
    ) AS "previous_timestamp",
    LEAD("event", 1) OVER (
      PARTITION BY "dbt_visitor_id"
      ORDER BY "timestamp" NULLS FIRST, "event_id" NULLS FIRST
    ) AS "next_event_1",
    LEAD("timestamp", 1) OVER (
      PARTITION BY "dbt_visitor_id"
      ORDER BY "timestamp" NULLS FIRST, "event_id" NULLS FIRST
    ) AS "next_timestamp_1",
    LEAD("event", 2) OVER (
      PARTITION BY "dbt_visitor_id"
      ORDER BY "timestamp" NULLS FIRST, "event_id" NULLS FIRST
    ) AS "next_event_2",
    LEAD("timestamp", 2) OVER (
      PARTITION BY "dbt_visitor_id"
      ORDER BY "timestamp" NULLS FIRST, "event_id" NULLS FIRST
    ) AS "next_timestamp_2",
    LEAD("event", 3) OVER (
      PARTITION BY "dbt_visitor_id"
      ORDER BY "timestamp" NULLS FIRST, "event_id" NULLS FIRST
    ) AS "next_event_3",
    LEAD("timestamp", 3) OVER (
      PARTITION BY "dbt_visitor_id"
      ORDER BY "timestamp" NULLS FIRST, "event_id" NULLS FIRST
    ) AS "next_timestamp_3",
    LEAD("event", 4) OVER (
      PARTITION BY "dbt_visitor_id"
      ORDER BY "timestamp" NULLS FIRST, "event_id" NULLS FIRST
    ) AS "next_event_4",
    LEAD("timestamp", 4) OVER (
      PARTITION BY "dbt_visitor_id"
      ORDER BY "timestamp" NULLS FIRST, "event_id" NULLS FIRST
    ) AS "next_timestamp_4"
  FROM "mapped"
), "steps" AS (
  /* The exact gap from the previous event, and the next events while the session lasts */
  /* (each gap up to them within the timeout); only what the output needs goes on. */
  SELECT
    "event_id",
    "anonymous_id",
    "dbt_visitor_id",
    "timestamp",
    "event",
    "visitor_event_number",
    CAST(DATEDIFF(MICROSECOND, "previous_timestamp", "timestamp") AS DOUBLE PRECISION) / 60000000.0 AS "idle_time_minutes",
    CASE
      WHEN CAST(DATEDIFF(MICROSECOND, "timestamp", "next_timestamp_1") AS DOUBLE PRECISION) / 60000000.0 <= 30
      THEN "next_event_1"
    END AS "event_2",
    CASE
      WHEN CAST(DATEDIFF(MICROSECOND, "timestamp", "next_timestamp_1") AS DOUBLE PRECISION) / 60000000.0 <= 30
      AND CAST(DATEDIFF(MICROSECOND, "next_timestamp_1", "next_timestamp_2") AS DOUBLE PRECISION) / 60000000.0 <= 30
      THEN "next_event_2"
    END AS "event_3",
    CASE
      WHEN CAST(DATEDIFF(MICROSECOND, "timestamp", "next_timestamp_1") AS DOUBLE PRECISION) / 60000000.0 <= 30
      AND CAST(DATEDIFF(MICROSECOND, "next_timestamp_1", "next_timestamp_2") AS DOUBLE PRECISION) / 60000000.0 <= 30
      AND CAST(DATEDIFF(MICROSECOND, "next_timestamp_2", "next_timestamp_3") AS DOUBLE PRECISION) / 60000000.0 <= 30
      THEN "next_event_3"
    END AS "event_4",
    CASE
      WHEN CAST(DATEDIFF(MICROSECOND, "timestamp", "next_timestamp_1") AS DOUBLE PRECISION) / 60000000.0 <= 30
      AND CAST(DATEDIFF(MICROSECOND, "next_timestamp_1", "next_timestamp_2") AS DOUBLE PRECISION) / 60000000.0 <= 30
      AND CAST(DATEDIFF(MICROSECOND, "next_timestamp_2", "next_timestamp_3") AS DOUBLE PRECISION) / 60000000.0 <= 30
      AND CAST(DATEDIFF(MICROSECOND, "next_timestamp_3", "next_timestamp_4") AS DOUBLE PRECISION) / 60000000.0 <= 30
      THEN "next_event_4"
    END AS "event_5"
  FROM "ordered"
), "sessions" AS (
  /* A gap above the idle timeout (or none) starts a session; count them, and remember */
  /* where the current session began to number its events. */
  SELECT
    "steps".*,
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
    ) AS "session_first_event_number"
  FROM "steps"
)
SELECT
  "event_id",
  "anonymous_id",
  "dbt_visitor_id",
  "timestamp",
  "event",
  "idle_time_minutes",
  CAST("session_number" AS BIGINT) AS "session_sequence_number",
  CAST(CAST("session_number" AS BIGINT) AS VARCHAR) || ' - ' || "dbt_visitor_id" AS "session_id",
  CAST("visitor_event_number" - "session_first_event_number" + 1 AS BIGINT) AS "track_sequence_number",
  "event_2",
  "event_3",
  "event_4",
  "event_5"
FROM "sessions";
