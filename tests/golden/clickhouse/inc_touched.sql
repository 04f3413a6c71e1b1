CREATE OR REPLACE TABLE "journey"."inc_touched"
ENGINE=MergeTree
ORDER BY tuple() AS
WITH "versions" AS (
  SELECT
    "anonymous_id",
    "user_id"
  FROM "journey"."inc_changes"
  SETTINGS prefer_column_name_to_alias = 1
  UNION ALL
  SELECT
    "kept"."anonymous_id",
    "kept"."user_id"
  FROM "journey"."inc_kept" AS "kept" /* a changed id was read again */
  JOIN "journey"."inc_changes" AS "changed"
    ON "changed"."id" = "kept"."id"
  SETTINGS prefer_column_name_to_alias = 1
), "ids" AS (
  SELECT
    "anonymous_id" AS "alias"
  FROM "versions"
  WHERE
    NOT (
      "anonymous_id" IS NULL
    )
  SETTINGS prefer_column_name_to_alias = 1
  UNION ALL
  SELECT
    "user_id" AS "alias"
  FROM "versions"
  WHERE
    NOT (
      "user_id" IS NULL
    )
  SETTINGS prefer_column_name_to_alias = 1
)
SELECT
  "alias"
FROM "ids"
GROUP BY
  "alias"
SETTINGS prefer_column_name_to_alias = 1;
