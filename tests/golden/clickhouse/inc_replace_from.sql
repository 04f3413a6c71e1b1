CREATE OR REPLACE TABLE "journey"."inc_replace_from"
ENGINE=MergeTree
ORDER BY tuple() AS
WITH "moved" AS (
  /* the aliases whose visitor changes: all their events leave one visitor for another */
  SELECT
    "t"."alias",
    "old"."dbt_visitor_id" AS "old_visitor",
    "new"."dbt_visitor_id" AS "new_visitor"
  FROM "journey"."inc_touched" AS "t"
  LEFT JOIN "journey"."dbt_aliases_mapping" AS "old"
    ON "old"."alias" = "t"."alias"
  LEFT JOIN "journey"."inc_alias_delta" AS "new"
    ON "new"."alias" = "t"."alias"
  WHERE
    (
      (
        "old"."dbt_visitor_id"
      ) <> (
        "new"."dbt_visitor_id"
      )
      OR (
        (
          "old"."dbt_visitor_id"
        ) IS NULL
        AND NOT (
          (
            "new"."dbt_visitor_id"
          ) IS NULL
        )
      )
      OR (
        NOT (
          (
            "old"."dbt_visitor_id"
          ) IS NULL
        )
        AND (
          "new"."dbt_visitor_id"
        ) IS NULL
      )
    )
  SETTINGS prefer_column_name_to_alias = 1, join_use_nulls = 1
), "moved_between" AS (
  /* each moved alias at the visitor it leaves and at the one it joins */
  SELECT
    "alias",
    "old_visitor" AS "dbt_visitor_id"
  FROM "moved"
  SETTINGS prefer_column_name_to_alias = 1
  UNION ALL
  SELECT
    "alias",
    "new_visitor" AS "dbt_visitor_id"
  FROM "moved"
  SETTINGS prefer_column_name_to_alias = 1
), "events" AS (
  /* the affected visitors' events as this run leaves them, each at its visitor */
  SELECT
    "m"."dbt_visitor_id",
    "e"."id",
    "e"."timestamp",
    COALESCE("e"."user_id", "e"."anonymous_id") AS "alias"
  FROM "journey"."inc_events" AS "e"
  JOIN "journey"."inc_mapping" AS "m"
    ON "m"."alias" = COALESCE("e"."user_id", "e"."anonymous_id")
  SETTINGS prefer_column_name_to_alias = 1
), "changes" AS (
  /* where each visitor's events change: a new or changed event at its visitor ... */
  SELECT
    "e"."dbt_visitor_id",
    "e"."timestamp"
  FROM "events" AS "e"
  JOIN "journey"."inc_changes" AS "changed"
    ON "changed"."id" = "e"."id"
  SETTINGS prefer_column_name_to_alias = 1
  UNION ALL
  /* ... the kept version it replaces, at the visitor that version had ... */
  SELECT
    "old"."dbt_visitor_id",
    "kept"."timestamp"
  FROM "journey"."inc_kept" AS "kept"
  JOIN "journey"."inc_changes" AS "changed"
    ON "changed"."id" = "kept"."id"
  JOIN "journey"."dbt_aliases_mapping" AS "old"
    ON "old"."alias" = COALESCE("kept"."user_id", "kept"."anonymous_id")
  SETTINGS prefer_column_name_to_alias = 1
  UNION ALL
  /* ... and every event of a moved alias, at both of its visitors */
  SELECT
    "moved_between"."dbt_visitor_id",
    "e"."timestamp"
  FROM "events" AS "e"
  JOIN "moved_between"
    ON "moved_between"."alias" = "e"."alias"
  WHERE
    NOT (
      "moved_between"."dbt_visitor_id" IS NULL
    )
  SETTINGS prefer_column_name_to_alias = 1
), "first_change" AS (
  SELECT
    "dbt_visitor_id",
    MIN("timestamp") AS "changed_at"
  FROM "changes"
  GROUP BY
    "dbt_visitor_id"
  SETTINGS prefer_column_name_to_alias = 1
), "gaps" AS (
  /* the gaps journey_events computes; those before a visitor's first change are unchanged */
  SELECT
    "dbt_visitor_id",
    "timestamp",
    CAST(DATE_DIFF(
      MICROSECOND,
      lag(toNullable("timestamp")) OVER (PARTITION BY "dbt_visitor_id" ORDER BY "timestamp" NULLS FIRST, "id" NULLS FIRST),
      "timestamp"
    ) AS Nullable(Float64)) / 60000000.0 AS "idle_time_minutes"
  FROM "events"
  SETTINGS prefer_column_name_to_alias = 1
), "session_starts" AS (
  SELECT
    "dbt_visitor_id",
    "timestamp"
  FROM "gaps"
  WHERE
    "idle_time_minutes" IS NULL OR "idle_time_minutes" > 30
  SETTINGS prefer_column_name_to_alias = 1
)
SELECT
  "f"."dbt_visitor_id",
  COALESCE(MAX("s"."timestamp"), "f"."changed_at") AS "replace_from"
FROM "first_change" AS "f"
LEFT JOIN "session_starts" AS "s"
  ON "s"."dbt_visitor_id" = "f"."dbt_visitor_id"
  AND "s"."timestamp" < "f"."changed_at"
GROUP BY
  "f"."dbt_visitor_id",
  "f"."changed_at"
SETTINGS prefer_column_name_to_alias = 1, join_use_nulls = 1;
