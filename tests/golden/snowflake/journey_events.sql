CREATE OR REPLACE TABLE "JOURNEY"."JOURNEY_EVENTS" AS
WITH "MAPPED" AS (
  SELECT
    "E"."ID" AS "EVENT_ID",
    "E"."ANONYMOUS_ID",
    "M"."DBT_VISITOR_ID",
    "E"."TIMESTAMP",
    "E"."EVENT"
  FROM (
    SELECT
      "E"."ID",
      "E"."ANONYMOUS_ID",
      "E"."USER_ID",
      "E"."TIMESTAMP",
      "E"."EVENT"
    FROM "RUDDER"."TRACKS" AS "E"
    LEFT JOIN "JOURNEY"."CHOSEN_COPIES" AS "REPEATED"
      ON "REPEATED"."ID" = "E"."ID"
    WHERE
      "REPEATED"."ID" IS NULL
      AND NOT "E"."ID" IS NULL
      AND NOT "E"."TIMESTAMP" IS NULL
      AND (
        NOT "E"."ANONYMOUS_ID" IS NULL OR NOT "E"."USER_ID" IS NULL
      )
    UNION ALL
    SELECT
      "ID",
      "ANONYMOUS_ID",
      "USER_ID",
      "TIMESTAMP",
      "EVENT"
    FROM "JOURNEY"."CHOSEN_COPIES"
  ) AS "E"
  JOIN "JOURNEY"."DBT_ALIASES_MAPPING" AS "M"
    ON "M"."ALIAS" = COALESCE("E"."USER_ID", "E"."ANONYMOUS_ID")
), "ORDERED" AS (
  /* The sort: each visitor's events in (timestamp, id) order, numbered, with the exact */
  /* gap from the previous one, and how many of the next journey_length - 1 events are in */
  /* its session (every gap up to them within the timeout). The next events' timestamps */
  /* are read here, in the sort already made, so the second pass carries no gaps. */
  SELECT
    "EVENT_ID",
    "ANONYMOUS_ID",
    "DBT_VISITOR_ID",
    "TIMESTAMP",
    "EVENT",
    ROW_NUMBER() OVER (
      PARTITION BY "DBT_VISITOR_ID"
      ORDER BY "TIMESTAMP" NULLS FIRST, "EVENT_ID" NULLS FIRST
    ) AS "VISITOR_EVENT_NUMBER",
    CAST(TIMESTAMPDIFF(
      MICROSECOND,
      LAG("TIMESTAMP") OVER (
        PARTITION BY "DBT_VISITOR_ID"
        ORDER BY "TIMESTAMP" NULLS FIRST, "EVENT_ID" NULLS FIRST
      ),
      "TIMESTAMP"
    ) AS DOUBLE) / 60000000.0 AS "IDLE_TIME_MINUTES",
    CASE
      WHEN CAST(TIMESTAMPDIFF(
        MICROSECOND,
        "TIMESTAMP",
        LEAD("TIMESTAMP", 1) OVER (
          PARTITION BY "DBT_VISITOR_ID"
          ORDER BY "TIMESTAMP" NULLS FIRST, "EVENT_ID" NULLS FIRST
        )
      ) AS DOUBLE) / 60000000.0 <= 30
      THEN CASE
        WHEN CAST(TIMESTAMPDIFF(
          MICROSECOND,
          LEAD("TIMESTAMP", 1) OVER (
            PARTITION BY "DBT_VISITOR_ID"
            ORDER BY "TIMESTAMP" NULLS FIRST, "EVENT_ID" NULLS FIRST
          ),
          LEAD("TIMESTAMP", 2) OVER (
            PARTITION BY "DBT_VISITOR_ID"
            ORDER BY "TIMESTAMP" NULLS FIRST, "EVENT_ID" NULLS FIRST
          )
        ) AS DOUBLE) / 60000000.0 <= 30
        THEN CASE
          WHEN CAST(TIMESTAMPDIFF(
            MICROSECOND,
            LEAD("TIMESTAMP", 2) OVER (
              PARTITION BY "DBT_VISITOR_ID"
              ORDER BY "TIMESTAMP" NULLS FIRST, "EVENT_ID" NULLS FIRST
            ),
            LEAD("TIMESTAMP", 3) OVER (
              PARTITION BY "DBT_VISITOR_ID"
              ORDER BY "TIMESTAMP" NULLS FIRST, "EVENT_ID" NULLS FIRST
            )
          ) AS DOUBLE) / 60000000.0 <= 30
          THEN CASE
            WHEN CAST(TIMESTAMPDIFF(
              MICROSECOND,
              LEAD("TIMESTAMP", 3) OVER (
                PARTITION BY "DBT_VISITOR_ID"
                ORDER BY "TIMESTAMP" NULLS FIRST, "EVENT_ID" NULLS FIRST
              ),
              LEAD("TIMESTAMP", 4) OVER (
                PARTITION BY "DBT_VISITOR_ID"
                ORDER BY "TIMESTAMP" NULLS FIRST, "EVENT_ID" NULLS FIRST
              )
            ) AS DOUBLE) / 60000000.0 <= 30
            THEN 4
            ELSE 3
          END
          ELSE 2
        END
        ELSE 1
      END
      ELSE 0
    END AS "NEXT_EVENTS_IN_SESSION"
  FROM "MAPPED"
), "SESSIONS" AS (
  /* Over the numbered rows: a gap above the idle timeout (or none) starts a session; count */
  /* them, remember where the current one began, and take the next events in the session. */
  SELECT
    "ORDERED".*,
    SUM(
      CASE WHEN "IDLE_TIME_MINUTES" IS NULL OR "IDLE_TIME_MINUTES" > 30 THEN 1 ELSE 0 END
    ) OVER (
      PARTITION BY "DBT_VISITOR_ID"
      ORDER BY "VISITOR_EVENT_NUMBER" NULLS FIRST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "SESSION_NUMBER",
    MAX(
      CASE
        WHEN "IDLE_TIME_MINUTES" IS NULL OR "IDLE_TIME_MINUTES" > 30
        THEN "VISITOR_EVENT_NUMBER"
      END
    ) OVER (
      PARTITION BY "DBT_VISITOR_ID"
      ORDER BY "VISITOR_EVENT_NUMBER" NULLS FIRST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "SESSION_FIRST_EVENT_NUMBER",
    CASE
      WHEN "NEXT_EVENTS_IN_SESSION" >= 1
      THEN LEAD("EVENT", 1) OVER (PARTITION BY "DBT_VISITOR_ID" ORDER BY "VISITOR_EVENT_NUMBER" NULLS FIRST)
    END AS "EVENT_2",
    CASE
      WHEN "NEXT_EVENTS_IN_SESSION" >= 2
      THEN LEAD("EVENT", 2) OVER (PARTITION BY "DBT_VISITOR_ID" ORDER BY "VISITOR_EVENT_NUMBER" NULLS FIRST)
    END AS "EVENT_3",
    CASE
      WHEN "NEXT_EVENTS_IN_SESSION" >= 3
      THEN LEAD("EVENT", 3) OVER (PARTITION BY "DBT_VISITOR_ID" ORDER BY "VISITOR_EVENT_NUMBER" NULLS FIRST)
    END AS "EVENT_4",
    CASE
      WHEN "NEXT_EVENTS_IN_SESSION" >= 4
      THEN LEAD("EVENT", 4) OVER (PARTITION BY "DBT_VISITOR_ID" ORDER BY "VISITOR_EVENT_NUMBER" NULLS FIRST)
    END AS "EVENT_5"
  FROM "ORDERED"
)
/* dbt_tracks_flow's columns in its order, the other tables' columns between them: the */
/* flow table is this table with those dropped. */
SELECT
  "EVENT_ID",
  "ANONYMOUS_ID",
  CAST(CAST("SESSION_NUMBER" AS BIGINT) AS VARCHAR) || ' - ' || "DBT_VISITOR_ID" AS "SESSION_ID",
  CAST("SESSION_NUMBER" AS BIGINT) AS "SESSION_SEQUENCE_NUMBER",
  CAST("VISITOR_EVENT_NUMBER" - "SESSION_FIRST_EVENT_NUMBER" + 1 AS BIGINT) AS "TRACK_SEQUENCE_NUMBER",
  "EVENT",
  "DBT_VISITOR_ID",
  "TIMESTAMP",
  "IDLE_TIME_MINUTES",
  "EVENT_2",
  "EVENT_3",
  "EVENT_4",
  "EVENT_5"
FROM "SESSIONS";
