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
), "MOVED_EVENTS" AS (
  /* the moved aliases' events as this run leaves them */
  SELECT
    COALESCE("E"."USER_ID", "E"."ANONYMOUS_ID") AS "ALIAS",
    "E"."TIMESTAMP"
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
        COALESCE("USER_ID", "ANONYMOUS_ID") IN (
          SELECT
            "ALIAS"
          FROM "MOVED"
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
      COALESCE("USER_ID", "ANONYMOUS_ID") IN (
        SELECT
          "ALIAS"
        FROM "MOVED"
      )
  ) AS "E"
), "CHANGES" AS (
  /* where each visitor's events change: a new or changed event at its visitor ... */
  SELECT
    "M"."DBT_VISITOR_ID",
    "CHANGED"."TIMESTAMP"
  FROM "JOURNEY"."INC_CHANGES" AS "CHANGED"
  JOIN "JOURNEY"."INC_MAPPING" AS "M"
    ON "M"."ALIAS" = COALESCE("CHANGED"."USER_ID", "CHANGED"."ANONYMOUS_ID")
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
  FROM "MOVED_EVENTS" AS "E"
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
), "UNCHANGED_SESSIONS" AS (
  /* the visitor's sessions that begin before its first change, as published (they begin the */
  /* same after this run); the last of them is where its rows are replaced from */
  SELECT
    "F"."DBT_VISITOR_ID",
    "F"."CHANGED_AT",
    MAX("S"."SESSION_START_AT") AS "LAST_START",
    MAX("S"."SESSION_SEQUENCE_NUMBER") AS "LAST_NUMBER"
  FROM "FIRST_CHANGE" AS "F"
  LEFT JOIN "JOURNEY"."DBT_SESSION_TRACKS" AS "S"
    ON "S"."DBT_VISITOR_ID" = "F"."DBT_VISITOR_ID"
    AND "S"."SESSION_START_AT" < "F"."CHANGED_AT"
  GROUP BY
    "F"."DBT_VISITOR_ID",
    "F"."CHANGED_AT"
)
SELECT
  "U"."DBT_VISITOR_ID",
  COALESCE("U"."LAST_START", "U"."CHANGED_AT") AS "REPLACE_FROM",
  CAST(COALESCE("U"."LAST_NUMBER" - 1, 0) AS BIGINT) AS "SESSIONS_BEFORE",
  MAX("T"."TIMESTAMP") AS "PREVIOUS_TIMESTAMP"
FROM "UNCHANGED_SESSIONS" AS "U"
LEFT JOIN "JOURNEY"."DBT_MAPPED_TRACKS" AS "T"
  ON "T"."DBT_VISITOR_ID" = "U"."DBT_VISITOR_ID"
  AND "T"."TIMESTAMP" < "U"."LAST_START"
GROUP BY
  "U"."DBT_VISITOR_ID",
  "U"."CHANGED_AT",
  "U"."LAST_START",
  "U"."LAST_NUMBER";
