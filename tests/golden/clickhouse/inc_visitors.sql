CREATE OR REPLACE TABLE "journey"."inc_visitors"
ENGINE=MergeTree
ORDER BY tuple() AS
WITH "visitors" AS (
  SELECT
    "m"."dbt_visitor_id"
  FROM "journey"."dbt_aliases_mapping" AS "m"
  JOIN "journey"."inc_touched" AS "t"
    ON "t"."alias" = "m"."alias"
  SETTINGS prefer_column_name_to_alias = 1
  UNION ALL
  SELECT
    "dbt_visitor_id"
  FROM "journey"."inc_alias_delta"
  SETTINGS prefer_column_name_to_alias = 1
)
SELECT
  "dbt_visitor_id"
FROM "visitors"
GROUP BY
  "dbt_visitor_id"
SETTINGS prefer_column_name_to_alias = 1;
