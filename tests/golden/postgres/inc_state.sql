DROP TABLE IF EXISTS "journey"."inc_state";
CREATE TABLE "journey"."inc_state" AS
SELECT
  "state"."fingerprint",
  "state"."settings",
  CASE
    WHEN "read"."latest" IS NULL OR "state"."high_water_mark" >= "read"."latest"
    THEN "state"."high_water_mark"
    ELSE "read"."latest"
  END AS "high_water_mark"
FROM "journey"."journeyctl_state" AS "state"
CROSS JOIN (
  SELECT
    MAX("received_at") AS "latest"
  FROM "journey"."inc_batch"
) AS "read";
