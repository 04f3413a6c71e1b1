CREATE OR REPLACE TABLE `journey`.`deduplicated_tracks` AS
SELECT
  `id`,
  `anonymous_id`,
  `user_id`,
  `timestamp`,
  `event`
FROM (
  SELECT
    `id`,
    `anonymous_id`,
    `user_id`,
    `timestamp`,
    `event`,
    ROW_NUMBER() OVER (
      PARTITION BY `id`
      ORDER BY CASE WHEN `received_at` IS NULL THEN 1 ELSE 0 END, `received_at`, `timestamp`, `event`, `anonymous_id`, `user_id`
    ) AS `copy_number`
  FROM `rudder`.`tracks`
  WHERE
    NOT `id` IS NULL
    AND NOT `timestamp` IS NULL
    AND (
      NOT `anonymous_id` IS NULL OR NOT `user_id` IS NULL
    )
) AS `copies`
WHERE
  `copy_number` = 1;
