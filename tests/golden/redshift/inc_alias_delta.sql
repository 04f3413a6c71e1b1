DROP TABLE IF EXISTS "journey"."inc_alias_delta";
CREATE TABLE "journey"."inc_alias_delta" AS
SELECT
  "mapping"."alias",
  "mapping"."dbt_visitor_id"
FROM (
  WITH "events" AS (
    SELECT
      "e"."id",
      "e"."anonymous_id",
      "e"."user_id",
      "e"."timestamp",
      "e"."event"
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
          "anonymous_id" IN (
            SELECT
              "alias"
            FROM "journey"."inc_touched"
          )
          OR "user_id" IN (
            SELECT
              "alias"
            FROM "journey"."inc_touched"
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
        "anonymous_id" IN (
          SELECT
            "alias"
          FROM "journey"."inc_touched"
        )
        OR "user_id" IN (
          SELECT
            "alias"
          FROM "journey"."inc_touched"
        )
    ) AS "e"
  ), "user_ids" AS (
    SELECT
      "user_id"
    FROM "events"
    WHERE
      NOT "user_id" IS NULL
    GROUP BY
      "user_id"
  ), "anonymous_ids" AS (
    SELECT
      "anonymous_id"
    FROM "events"
    WHERE
      NOT "anonymous_id" IS NULL
    GROUP BY
      "anonymous_id"
  ), "identified" AS (
    SELECT
      "anonymous_id",
      "user_id",
      "timestamp",
      "id"
    FROM "events"
    WHERE
      NOT "anonymous_id" IS NULL AND NOT "user_id" IS NULL
  ), "last_identified" AS (
    SELECT
      "anonymous_id",
      MAX("timestamp") AS "last_timestamp"
    FROM "identified"
    GROUP BY
      "anonymous_id"
  ), "latest" AS (
    /* An anonymous id's latest identified event names its visitor (shared device: the later */
    /* user); ids break a tie of timestamps. Only the events at that latest timestamp are */
    /* ranked: sorting all identified events costs twice the whole stage. */
    SELECT
      "i"."anonymous_id",
      "i"."user_id",
      ROW_NUMBER() OVER (PARTITION BY "i"."anonymous_id" ORDER BY "i"."id" DESC NULLS LAST) AS "recency"
    FROM "identified" AS "i"
    JOIN "last_identified" AS "l"
      ON "l"."anonymous_id" = "i"."anonymous_id"
      AND "l"."last_timestamp" = "i"."timestamp"
  )
  SELECT
    "user_id" AS "alias",
    "user_id" AS "dbt_visitor_id"
  FROM "user_ids"
  UNION ALL
  SELECT
    "a"."anonymous_id" AS "alias",
    COALESCE("i"."user_id", "a"."anonymous_id") AS "dbt_visitor_id"
  FROM "anonymous_ids" AS "a"
  LEFT JOIN "latest" AS "i"
    ON "i"."anonymous_id" = "a"."anonymous_id" AND "i"."recency" = 1
  LEFT JOIN "user_ids" AS "u"
    ON "u"."user_id" = "a"."anonymous_id"
  WHERE
    "u"."user_id" IS NULL
) AS "mapping"
WHERE
  "mapping"."alias" IN (
    SELECT
      "alias"
    FROM "journey"."inc_touched"
  );
