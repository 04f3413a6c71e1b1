CREATE OR REPLACE TABLE "JOURNEY"."INC_ALIAS_DELTA" AS
SELECT
  "MAPPING"."ALIAS",
  "MAPPING"."DBT_VISITOR_ID"
FROM (
  WITH "EVENTS" AS (
    SELECT
      "E"."ID",
      "E"."ANONYMOUS_ID",
      "E"."USER_ID",
      "E"."TIMESTAMP",
      "E"."EVENT"
    FROM (
      SELECT
        "KEPT"."ID",
        "KEPT"."ANONYMOUS_ID",
        "KEPT"."USER_ID",
        "KEPT"."TIMESTAMP",
        "KEPT"."EVENT",
        "KEPT"."RECEIVED_AT"
      FROM (
        SELECT
          *
        FROM "JOURNEY"."JOURNEYCTL_EVENTS"
        WHERE
          "ANONYMOUS_ID" IN (
            SELECT
              "ALIAS"
            FROM "JOURNEY"."INC_TOUCHED"
          )
          OR "USER_ID" IN (
            SELECT
              "ALIAS"
            FROM "JOURNEY"."INC_TOUCHED"
          )
      ) AS "KEPT"
      LEFT JOIN "JOURNEY"."INC_CHANGES" AS "CHANGED"
        ON "CHANGED"."ID" = "KEPT"."ID"
      WHERE
        "CHANGED"."ID" IS NULL
      UNION ALL
      SELECT
        "ID",
        "ANONYMOUS_ID",
        "USER_ID",
        "TIMESTAMP",
        "EVENT",
        "RECEIVED_AT"
      FROM "JOURNEY"."INC_CHANGES"
      WHERE
        "ANONYMOUS_ID" IN (
          SELECT
            "ALIAS"
          FROM "JOURNEY"."INC_TOUCHED"
        )
        OR "USER_ID" IN (
          SELECT
            "ALIAS"
          FROM "JOURNEY"."INC_TOUCHED"
        )
    ) AS "E"
  ), "USER_IDS" AS (
    SELECT
      "USER_ID"
    FROM "EVENTS"
    WHERE
      NOT "USER_ID" IS NULL
    GROUP BY
      "USER_ID"
  ), "ANONYMOUS_IDS" AS (
    SELECT
      "ANONYMOUS_ID"
    FROM "EVENTS"
    WHERE
      NOT "ANONYMOUS_ID" IS NULL
    GROUP BY
      "ANONYMOUS_ID"
  ), "IDENTIFIED" AS (
    SELECT
      "ANONYMOUS_ID",
      "USER_ID",
      "TIMESTAMP",
      "ID"
    FROM "EVENTS"
    WHERE
      NOT "ANONYMOUS_ID" IS NULL AND NOT "USER_ID" IS NULL
  ), "LAST_IDENTIFIED" AS (
    SELECT
      "ANONYMOUS_ID",
      MAX("TIMESTAMP") AS "LAST_TIMESTAMP"
    FROM "IDENTIFIED"
    GROUP BY
      "ANONYMOUS_ID"
  ), "LATEST" AS (
    /* An anonymous id's latest identified event names its visitor (shared device: the later */
    /* user); ids break a tie of timestamps. Only the events at that latest timestamp are */
    /* ranked: sorting all identified events costs twice the whole stage. */
    SELECT
      "I"."ANONYMOUS_ID",
      "I"."USER_ID",
      ROW_NUMBER() OVER (PARTITION BY "I"."ANONYMOUS_ID" ORDER BY "I"."ID" DESC NULLS LAST) AS "RECENCY"
    FROM "IDENTIFIED" AS "I"
    JOIN "LAST_IDENTIFIED" AS "L"
      ON "L"."ANONYMOUS_ID" = "I"."ANONYMOUS_ID"
      AND "L"."LAST_TIMESTAMP" = "I"."TIMESTAMP"
  )
  SELECT
    "USER_ID" AS "ALIAS",
    "USER_ID" AS "DBT_VISITOR_ID"
  FROM "USER_IDS"
  UNION ALL
  SELECT
    "A"."ANONYMOUS_ID" AS "ALIAS",
    COALESCE("I"."USER_ID", "A"."ANONYMOUS_ID") AS "DBT_VISITOR_ID"
  FROM "ANONYMOUS_IDS" AS "A"
  LEFT JOIN "LATEST" AS "I"
    ON "I"."ANONYMOUS_ID" = "A"."ANONYMOUS_ID" AND "I"."RECENCY" = 1
  LEFT JOIN "USER_IDS" AS "U"
    ON "U"."USER_ID" = "A"."ANONYMOUS_ID"
  WHERE
    "U"."USER_ID" IS NULL
) AS "MAPPING"
WHERE
  "MAPPING"."ALIAS" IN (
    SELECT
      "ALIAS"
    FROM "JOURNEY"."INC_TOUCHED"
  );
