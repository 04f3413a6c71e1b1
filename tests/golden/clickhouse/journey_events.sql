CREATE OR REPLACE TABLE "journey"."journey_events"
ENGINE=MergeTree
ORDER BY tuple() AS
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
      AND NOT (
        "e"."id" IS NULL
      )
      AND NOT (
        "e"."timestamp" IS NULL
      )
      AND (
        NOT (
          "e"."anonymous_id" IS NULL
        ) OR NOT (
          "e"."user_id" IS NULL
        )
      )
    SETTINGS prefer_column_name_to_alias = 1, join_use_nulls = 1
    UNION ALL
    SELECT
      "id",
      "anonymous_id",
      "user_id",
      "timestamp",
      "event"
    FROM "journey"."chosen_copies"
    SETTINGS prefer_column_name_to_alias = 1
  ) AS "e"
  JOIN "journey"."dbt_aliases_mapping" AS "m"
    ON "m"."alias" = COALESCE("e"."user_id", "e"."anonymous_id")
  SETTINGS prefer_column_name_to_alias = 1
), "ordered" AS (
  /* The sort: each visitor's events in (timestamp, id) order, numbered, with the exact */
  /* gap from the previous one, and how many of the next journey_length - 1 events are in */
  /* its session (every gap up to them within the timeout). The next events' timestamps */
  /* are read here, in the sort already made, so the second pass carries no gaps. */
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
    CAST(DATE_DIFF(
      MICROSECOND,
      lag(toNullable("timestamp")) OVER (
        PARTITION BY "dbt_visitor_id"
        ORDER BY "timestamp" NULLS FIRST, "event_id" NULLS FIRST
      ),
      "timestamp"
    ) AS Nullable(Float64)) / 60000000.0 AS "idle_time_minutes",
    CASE
      WHEN CAST(DATE_DIFF(
        MICROSECOND,
        "timestamp",
        lead(toNullable("timestamp"), 1) OVER (
          PARTITION BY "dbt_visitor_id"
          ORDER BY "timestamp" NULLS FIRST, "event_id" NULLS FIRST
        )
      ) AS Nullable(Float64)) / 60000000.0 <= 30
      THEN CASE
        WHEN CAST(DATE_DIFF(
          MICROSECOND,
          lead(toNullable("timestamp"), 1) OVER (
            PARTITION BY "dbt_visitor_id"
            ORDER BY "timestamp" NULLS FIRST, "event_id" NULLS FIRST
          ),
          lead(toNullable("timestamp"), 2) OVER (
            PARTITION BY "dbt_visitor_id"
            ORDER BY "timestamp" NULLS FIRST, "event_id" NULLS FIRST
          )
        ) AS Nullable(Float64)) / 60000000.0 <= 30
        THEN CASE
          WHEN CAST(DATE_DIFF(
            MICROSECOND,
            lead(toNullable("timestamp"), 2) OVER (
              PARTITION BY "dbt_visitor_id"
              ORDER BY "timestamp" NULLS FIRST, "event_id" NULLS FIRST
            ),
            lead(toNullable("timestamp"), 3) OVER (
              PARTITION BY "dbt_visitor_id"
              ORDER BY "timestamp" NULLS FIRST, "event_id" NULLS FIRST
            )
          ) AS Nullable(Float64)) / 60000000.0 <= 30
          THEN CASE
            WHEN CAST(DATE_DIFF(
              MICROSECOND,
              lead(toNullable("timestamp"), 3) OVER (
                PARTITION BY "dbt_visitor_id"
                ORDER BY "timestamp" NULLS FIRST, "event_id" NULLS FIRST
              ),
              lead(toNullable("timestamp"), 4) OVER (
                PARTITION BY "dbt_visitor_id"
                ORDER BY "timestamp" NULLS FIRST, "event_id" NULLS FIRST
              )
            ) AS Nullable(Float64)) / 60000000.0 <= 30
            THEN 4
            ELSE 3
          END
          ELSE 2
        END
        ELSE 1
      END
      ELSE 0
    END AS "next_events_in_session"
  FROM "mapped"
  SETTINGS prefer_column_name_to_alias = 1
), "sessions" AS (
  /* Over the numbered rows: a gap above the idle timeout (or none) starts a session; count */
  /* them, remember where the current one began, and take the next events in the session. */
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
    CASE
      WHEN "next_events_in_session" >= 1
      THEN lead(toNullable("event"), 1) OVER (PARTITION BY "dbt_visitor_id" ORDER BY "visitor_event_number" NULLS FIRST)
    END AS "event_2",
    CASE
      WHEN "next_events_in_session" >= 2
      THEN lead(toNullable("event"), 2) OVER (PARTITION BY "dbt_visitor_id" ORDER BY "visitor_event_number" NULLS FIRST)
    END AS "event_3",
    CASE
      WHEN "next_events_in_session" >= 3
      THEN lead(toNullable("event"), 3) OVER (PARTITION BY "dbt_visitor_id" ORDER BY "visitor_event_number" NULLS FIRST)
    END AS "event_4",
    CASE
      WHEN "next_events_in_session" >= 4
      THEN lead(toNullable("event"), 4) OVER (PARTITION BY "dbt_visitor_id" ORDER BY "visitor_event_number" NULLS FIRST)
    END AS "event_5"
  FROM "ordered"
  SETTINGS prefer_column_name_to_alias = 1
)
/* dbt_tracks_flow's columns in its order, the other tables' columns between them: the */
/* flow table is this table with those dropped. */
SELECT
  "event_id",
  "anonymous_id",
  CAST(CAST("session_number" AS Nullable(Int64)) AS Nullable(String)) || ' - ' || "dbt_visitor_id" AS "session_id",
  CAST("session_number" AS Nullable(Int64)) AS "session_sequence_number",
  CAST("visitor_event_number" - "session_first_event_number" + 1 AS Nullable(Int64)) AS "track_sequence_number",
  "event",
  "dbt_visitor_id",
  "timestamp",
  "idle_time_minutes",
  "event_2",
  "event_3",
  "event_4",
  "event_5"
FROM "sessions"
SETTINGS prefer_column_name_to_alias = 1;
