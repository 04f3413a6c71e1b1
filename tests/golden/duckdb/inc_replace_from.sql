CREATE OR REPLACE TABLE "journey"."inc_replace_from" AS
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
        ) IS NULL AND NOT (
          "new"."dbt_visitor_id"
        ) IS NULL
      )
      OR (
        NOT (
          "old"."dbt_visitor_id"
        ) IS NULL AND (
          "new"."dbt_visitor_id"
        ) IS NULL
      )
    )
), "moved_between" AS (
  /* each moved alias at the visitor it leaves and at the one it joins */
  SELECT
    "alias",
    "old_visitor" AS "dbt_visitor_id"
  FROM "moved"
  UNION ALL
  SELECT
    "alias",
    "new_visitor" AS "dbt_visitor_id"
  FROM "moved"
), "moved_events" AS (
  /* the moved aliases' events as this run leaves them */
  SELECT
    COALESCE("e"."user_id", "e"."anonymous_id") AS "alias",
    "e"."timestamp"
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
          FROM "moved"
        )
    ) AS "kept"
    LEFT JOIN "journey"."inc_changes" AS "changed"
      ON "changed"."id" = "kept"."id"
    WHERE
      "changed"."id" IS NULL
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
        FROM "moved"
      )
  ) AS "e"
), "changes" AS (
  /* where each visitor's events change: a new or changed event at its visitor ... */
  SELECT
    "m"."dbt_visitor_id",
    "changed"."timestamp"
  FROM "journey"."inc_changes" AS "changed"
  JOIN "journey"."inc_mapping" AS "m"
    ON "m"."alias" = COALESCE("changed"."user_id", "changed"."anonymous_id")
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
  UNION ALL
  /* ... and every event of a moved alias, at both of its visitors */
  SELECT
    "moved_between"."dbt_visitor_id",
    "e"."timestamp"
  FROM "moved_events" AS "e"
  JOIN "moved_between"
    ON "moved_between"."alias" = "e"."alias"
  WHERE
    NOT "moved_between"."dbt_visitor_id" IS NULL
), "first_change" AS (
  SELECT
    "dbt_visitor_id",
    MIN("timestamp") AS "changed_at"
  FROM "changes"
  GROUP BY
    "dbt_visitor_id"
), "unchanged_sessions" AS (
  /* the visitor's sessions that begin before its first change, as published (they begin the */
  /* same after this run); the last of them is where its rows are replaced from */
  SELECT
    "f"."dbt_visitor_id",
    "f"."changed_at",
    MAX("s"."session_start_at") AS "last_start",
    MAX("s"."session_sequence_number") AS "last_number"
  FROM "first_change" AS "f"
  LEFT JOIN "journey"."dbt_session_tracks" AS "s"
    ON "s"."dbt_visitor_id" = "f"."dbt_visitor_id"
    AND "s"."session_start_at" < "f"."changed_at"
  GROUP BY
    "f"."dbt_visitor_id",
    "f"."changed_at"
)
SELECT
  "u"."dbt_visitor_id",
  COALESCE("u"."last_start", "u"."changed_at") AS "replace_from",
  CAST(COALESCE("u"."last_number" - 1, 0) AS BIGINT) AS "sessions_before",
  MAX("t"."timestamp") AS "previous_timestamp"
FROM "unchanged_sessions" AS "u"
LEFT JOIN "journey"."dbt_mapped_tracks" AS "t"
  ON "t"."dbt_visitor_id" = "u"."dbt_visitor_id"
  AND "t"."timestamp" < "u"."last_start"
GROUP BY
  "u"."dbt_visitor_id",
  "u"."changed_at",
  "u"."last_start",
  "u"."last_number";
