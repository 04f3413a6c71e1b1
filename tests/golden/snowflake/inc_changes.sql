CREATE OR REPLACE TABLE "JOURNEY"."INC_CHANGES" AS
WITH "CANDIDATES" AS (
  SELECT
    "ID",
    "ANONYMOUS_ID",
    "USER_ID",
    "TIMESTAMP",
    "EVENT",
    "RECEIVED_AT"
  FROM "JOURNEY"."INC_BATCH"
  WHERE
    NOT "ID" IS NULL
    AND NOT "TIMESTAMP" IS NULL
    AND (
      NOT "ANONYMOUS_ID" IS NULL OR NOT "USER_ID" IS NULL
    )
  UNION ALL
  SELECT
    "ID",
    "ANONYMOUS_ID",
    "USER_ID",
    "TIMESTAMP",
    "EVENT",
    "RECEIVED_AT"
  FROM "JOURNEY"."INC_KEPT"
), "RANKED" AS (
  SELECT
    "CANDIDATES".*,
    ROW_NUMBER() OVER (
      PARTITION BY "ID"
      ORDER BY CASE WHEN "RECEIVED_AT" IS NULL THEN 1 ELSE 0 END NULLS FIRST, "RECEIVED_AT" NULLS FIRST, "TIMESTAMP" NULLS FIRST, "EVENT" NULLS FIRST, "ANONYMOUS_ID" NULLS FIRST, "USER_ID" NULLS FIRST
    ) AS "COPY_NUMBER"
  FROM "CANDIDATES"
)
SELECT
  "R"."ID",
  "R"."ANONYMOUS_ID",
  "R"."USER_ID",
  "R"."TIMESTAMP",
  "R"."EVENT",
  "R"."RECEIVED_AT"
FROM "RANKED" AS "R"
LEFT JOIN "JOURNEY"."INC_KEPT" AS "KEPT"
  ON "KEPT"."ID" = "R"."ID"
WHERE
  "R"."COPY_NUMBER" = 1
  AND (
    "KEPT"."ID" IS NULL
    OR (
      (
        "KEPT"."ANONYMOUS_ID"
      ) <> (
        "R"."ANONYMOUS_ID"
      )
      OR (
        (
          "KEPT"."ANONYMOUS_ID"
        ) IS NULL AND NOT (
          "R"."ANONYMOUS_ID"
        ) IS NULL
      )
      OR (
        NOT (
          "KEPT"."ANONYMOUS_ID"
        ) IS NULL AND (
          "R"."ANONYMOUS_ID"
        ) IS NULL
      )
    )
    OR (
      (
        "KEPT"."USER_ID"
      ) <> (
        "R"."USER_ID"
      )
      OR (
        (
          "KEPT"."USER_ID"
        ) IS NULL AND NOT (
          "R"."USER_ID"
        ) IS NULL
      )
      OR (
        NOT (
          "KEPT"."USER_ID"
        ) IS NULL AND (
          "R"."USER_ID"
        ) IS NULL
      )
    )
    OR (
      (
        "KEPT"."TIMESTAMP"
      ) <> (
        "R"."TIMESTAMP"
      )
      OR (
        (
          "KEPT"."TIMESTAMP"
        ) IS NULL AND NOT (
          "R"."TIMESTAMP"
        ) IS NULL
      )
      OR (
        NOT (
          "KEPT"."TIMESTAMP"
        ) IS NULL AND (
          "R"."TIMESTAMP"
        ) IS NULL
      )
    )
    OR (
      (
        "KEPT"."EVENT"
      ) <> (
        "R"."EVENT"
      )
      OR (
        (
          "KEPT"."EVENT"
        ) IS NULL AND NOT (
          "R"."EVENT"
        ) IS NULL
      )
      OR (
        NOT (
          "KEPT"."EVENT"
        ) IS NULL AND (
          "R"."EVENT"
        ) IS NULL
      )
    )
    OR (
      (
        "KEPT"."RECEIVED_AT"
      ) <> (
        "R"."RECEIVED_AT"
      )
      OR (
        (
          "KEPT"."RECEIVED_AT"
        ) IS NULL AND NOT (
          "R"."RECEIVED_AT"
        ) IS NULL
      )
      OR (
        NOT (
          "KEPT"."RECEIVED_AT"
        ) IS NULL AND (
          "R"."RECEIVED_AT"
        ) IS NULL
      )
    )
  );
