CREATE OR REPLACE TABLE "journey"."inc_batch" AS
SELECT
  "s"."id",
  "s"."anonymous_id",
  "s"."user_id",
  "s"."timestamp",
  "s"."event",
  "s"."received_at"
FROM "rudder"."tracks" AS "s"
CROSS JOIN "journey"."journeyctl_state" AS "state"
WHERE
  "s"."received_at" >= "state"."high_water_mark" - INTERVAL '7' HOUR
  AND (
    DATE_DIFF('MICROSECOND', "s"."received_at", "state"."high_water_mark") <= 21600000000
    OR (
      "state"."high_water_mark" IS NULL AND NOT "s"."received_at" IS NULL
    )
  );
