CREATE OR REPLACE TABLE "journey"."inc_kept"
ENGINE=MergeTree
ORDER BY tuple() AS
SELECT
  "kept"."id",
  "kept"."anonymous_id",
  "kept"."user_id",
  "kept"."timestamp",
  "kept"."event",
  "kept"."received_at"
FROM "journey"."journeyctl_events" AS "kept"
JOIN (
  SELECT
    "id" AS "read_id"
  FROM "journey"."inc_batch"
  GROUP BY
    "id"
  SETTINGS prefer_column_name_to_alias = 1
) AS "read_again"
  ON "read_again"."read_id" = "kept"."id"
SETTINGS prefer_column_name_to_alias = 1;
