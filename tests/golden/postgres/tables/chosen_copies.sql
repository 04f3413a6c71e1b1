DROP TABLE IF EXISTS "journey"."chosen_copies";
CREATE TABLE "journey"."chosen_copies" AS
WITH "repeated" AS (
  SELECT
    "id" AS "repeated_id"
  FROM "rudder"."tracks"
  WHERE
    NOT "id" IS NULL
    AND NOT "timestamp" IS NULL
    AND (
      NOT "anonymous_id" IS NULL OR NOT "user_id" IS NULL
    )
  GROUP BY
    "id"
  HAVING
    COUNT(*) > 1
), "ranked" AS (
  SELECT
    "id",
    "anonymous_id",
    "user_id",
    "timestamp",
    "event",
    "received_at",
    ROW_NUMBER() OVER (
      PARTITION BY "id"
      ORDER BY CASE WHEN "received_at" IS NULL THEN 1 ELSE 0 END NULLS FIRST, "received_at" NULLS FIRST, "timestamp" NULLS FIRST, "event" COLLATE "C" NULLS FIRST, "anonymous_id" COLLATE "C" NULLS FIRST, "user_id" COLLATE "C" NULLS FIRST
    ) AS "copy_number"
  FROM "rudder"."tracks"
  JOIN "repeated"
    ON "repeated"."repeated_id" = "id"
  WHERE
    NOT "id" IS NULL
    AND NOT "timestamp" IS NULL
    AND (
      NOT "anonymous_id" IS NULL OR NOT "user_id" IS NULL
    )
)
SELECT
  "id",
  "anonymous_id",
  "user_id",
  "timestamp",
  "event",
  "received_at"
FROM "ranked"
WHERE
  "copy_number" = 1;
