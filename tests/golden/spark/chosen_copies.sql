DROP TABLE IF EXISTS `journey`.`chosen_copies`;
CREATE TABLE `journey`.`chosen_copies` AS
WITH `usable_rows` AS (
  SELECT
    `id`,
    `anonymous_id`,
    `user_id`,
    `timestamp`,
    `event`,
    `received_at`
  FROM `rudder`.`tracks`
  WHERE
    NOT `id` IS NULL
    AND NOT `timestamp` IS NULL
    AND (
      NOT `anonymous_id` IS NULL OR NOT `user_id` IS NULL
    )
), `repeats` AS (
  SELECT
    `usable_rows`.*
  FROM `usable_rows`
  JOIN (
    SELECT
      `id` AS `repeated_id`
    FROM `usable_rows`
    GROUP BY
      `id`
    HAVING
      COUNT(*) > 1
  ) AS `repeated`
    ON `repeated`.`repeated_id` = `usable_rows`.`id`
), `ranked` AS (
  SELECT
    `repeats`.*,
    ROW_NUMBER() OVER (
      PARTITION BY `id`
      ORDER BY CASE WHEN `received_at` IS NULL THEN 1 ELSE 0 END, `received_at`, `timestamp`, `event`, `anonymous_id`, `user_id`
    ) AS `copy_number`
  FROM `repeats`
)
SELECT
  `id`,
  `anonymous_id`,
  `user_id`,
  `timestamp`,
  `event`,
  `received_at`
FROM `ranked`
WHERE
  `copy_number` = 1;
