CREATE OR REPLACE TABLE "journey"."inc_events"
ENGINE=MergeTree
ORDER BY tuple() AS
SELECT
  "e"."id",
  "e"."anonymous_id",
  "e"."user_id",
  "e"."timestamp",
  "e"."event",
  "e"."received_at"
FROM (
  SELECT
    "kept"."id",
    "kept"."anonymous_id",
    "kept"."user_id",
    "kept"."timestamp",
    "kept"."event",
    "kept"."received_at"
  FROM (
    SELECT
      *
    FROM "journey"."journeyctl_events"
    WHERE
      COALESCE("user_id", "anonymous_id") IN (
        SELECT
          "alias"
        FROM "journey"."inc_mapping"
        SETTINGS prefer_column_name_to_alias = 1
      )
    SETTINGS prefer_column_name_to_alias = 1
  ) AS "kept"
  LEFT JOIN "journey"."inc_changes" AS "changed"
    ON "changed"."id" = "kept"."id"
  WHERE
    "changed"."id" IS NULL
  SETTINGS prefer_column_name_to_alias = 1, join_use_nulls = 1
  UNION ALL
  SELECT
    "id",
    "anonymous_id",
    "user_id",
    "timestamp",
    "event",
    "received_at"
  FROM "journey"."inc_changes"
  WHERE
    COALESCE("user_id", "anonymous_id") IN (
      SELECT
        "alias"
      FROM "journey"."inc_mapping"
      SETTINGS prefer_column_name_to_alias = 1
    )
  SETTINGS prefer_column_name_to_alias = 1
) AS "e"
JOIN "journey"."inc_mapping" AS "m"
  ON "m"."alias" = COALESCE("e"."user_id", "e"."anonymous_id")
JOIN "journey"."inc_replace_from" AS "r"
  ON "r"."dbt_visitor_id" = "m"."dbt_visitor_id"
WHERE
  "e"."timestamp" >= "r"."replace_from"
SETTINGS prefer_column_name_to_alias = 1;
