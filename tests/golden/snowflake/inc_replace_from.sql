CREATE OR REPLACE TABLE "JOURNEY"."INC_REPLACE_FROM" AS
WITH "MOVED" AS (
  /* the aliases whose visitor changes: all their events leave one visitor for another */
  SELECT
    "T"."ALIAS",
    "OLD"."DBT_VISITOR_ID" AS "OLD_VISITOR",
    "NEW"."DBT_VISITOR_ID" AS "NEW_VISITOR"
  FROM "JOURNEY"."INC_TOUCHED" AS "T"
  LEFT JOIN "JOURNEY"."DBT_ALIASES_MAPPING" AS "OLD"
    ON "OLD"."ALIAS" = "T"."ALIAS"
  LEFT JOIN "JOURNEY"."INC_ALIAS_DELTA" AS "NEW"
    ON "NEW"."ALIAS" = "T"."ALIAS"
  WHERE
    (
      (
        "OLD"."DBT_VISITOR_ID"
      ) <> (
        "NEW"."DBT_VISITOR_ID"
      )
      OR (
        (
          "OLD"."DBT_VISITOR_ID"
        ) IS NULL AND NOT (
          "NEW"."DBT_VISITOR_ID"
        ) IS NULL
      )
      OR (
        NOT (
          "OLD"."DBT_VISITOR_ID"
        ) IS NULL AND (
          "NEW"."DBT_VISITOR_ID"
        ) IS NULL
      )
    )
), "MOVED_BETWEEN" AS (
  /* each moved alias at the visitor it leaves and at the one it joins */
  SELECT
    "ALIAS",
    "OLD_VISITOR" AS "DBT_VISITOR_ID"
  FROM "MOVED"
  UNION ALL
  SELECT
    "ALIAS",
    "NEW_VISITOR" AS "DBT_VISITOR_ID"
  FROM "MOVED"
), "EVENTS" AS (
  /* the affected visitors' events as this run leaves them, each at its visitor */
  SELECT
    "M"."DBT_VISITOR_ID",
    "E"."ID",
    "E"."TIMESTAMP",
    COALESCE("E"."USER_ID", "E"."ANONYMOUS_ID") AS "ALIAS"
  FROM "JOURNEY"."INC_EVENTS" AS "E"
  JOIN "JOURNEY"."INC_MAPPING" AS "M"
    ON "M"."ALIAS" = COALESCE("E"."USER_ID", "E"."ANONYMOUS_ID")
), "CHANGES" AS (
  /* where each visitor's events change: a new or changed event at its visitor ... */
  SELECT
    "E"."DBT_VISITOR_ID",
    "E"."TIMESTAMP"
  FROM "EVENTS" AS "E"
  JOIN "JOURNEY"."INC_CHANGES" AS "CHANGED"
    ON "CHANGED"."ID" = "E"."ID"
  UNION ALL
  /* ... the kept version it replaces, at the visitor that version had ... */
  SELECT
    "OLD"."DBT_VISITOR_ID",
    "KEPT"."TIMESTAMP"
  FROM "JOURNEY"."INC_KEPT" AS "KEPT"
  JOIN "JOURNEY"."INC_CHANGES" AS "CHANGED"
    ON "CHANGED"."ID" = "KEPT"."ID"
  JOIN "JOURNEY"."DBT_ALIASES_MAPPING" AS "OLD"
    ON "OLD"."ALIAS" = COALESCE("KEPT"."USER_ID", "KEPT"."ANONYMOUS_ID")
  UNION ALL
  /* ... and every event of a moved alias, at both of its visitors */
  SELECT
    "MOVED_BETWEEN"."DBT_VISITOR_ID",
    "E"."TIMESTAMP"
  FROM "EVENTS" AS "E"
  JOIN "MOVED_BETWEEN"
    ON "MOVED_BETWEEN"."ALIAS" = "E"."ALIAS"
  WHERE
    NOT "MOVED_BETWEEN"."DBT_VISITOR_ID" IS NULL
), "FIRST_CHANGE" AS (
  SELECT
    "DBT_VISITOR_ID",
    MIN("TIMESTAMP") AS "CHANGED_AT"
  FROM "CHANGES"
  GROUP BY
    "DBT_VISITOR_ID"
), "GAPS" AS (
  /* the gaps journey_events computes; those before a visitor's first change are unchanged */
  SELECT
    "DBT_VISITOR_ID",
    "TIMESTAMP",
    CAST(TIMESTAMPDIFF(
      MICROSECOND,
      LAG("TIMESTAMP") OVER (PARTITION BY "DBT_VISITOR_ID" ORDER BY "TIMESTAMP" NULLS FIRST, "ID" NULLS FIRST),
      "TIMESTAMP"
    ) AS DOUBLE) / 60000000.0 AS "IDLE_TIME_MINUTES"
  FROM "EVENTS"
), "SESSION_STARTS" AS (
  SELECT
    "DBT_VISITOR_ID",
    "TIMESTAMP"
  FROM "GAPS"
  WHERE
    "IDLE_TIME_MINUTES" IS NULL OR "IDLE_TIME_MINUTES" > 30
)
SELECT
  "F"."DBT_VISITOR_ID",
  COALESCE(MAX("S"."TIMESTAMP"), "F"."CHANGED_AT") AS "REPLACE_FROM"
FROM "FIRST_CHANGE" AS "F"
LEFT JOIN "SESSION_STARTS" AS "S"
  ON "S"."DBT_VISITOR_ID" = "F"."DBT_VISITOR_ID"
  AND "S"."TIMESTAMP" < "F"."CHANGED_AT"
GROUP BY
  "F"."DBT_VISITOR_ID",
  "F"."CHANGED_AT";
