CREATE OR REPLACE TABLE `journey`.`inc_touched` AS
WITH `versions` AS (
  SELECT
    `anonymous_id`,
    `user_id`
  FROM `journey`.`inc_changes`
  UNION ALL
  SELECT
    `kept`.`anonymous_id`,
    `kept`.`user_id`
  FROM `journey`.`inc_kept` AS `kept` /* a changed id was read again */
  JOIN `journey`.`inc_changes` AS `changed`
    ON `changed`.`id` = `kept`.`id`
), `ids` AS (
  SELECT
    `anonymous_id` AS `alias`
  FROM `versions`
  WHERE
    NOT `anonymous_id` IS NULL
  UNION ALL
  SELECT
    `user_id` AS `alias`
  FROM `versions`
  WHERE
    NOT `user_id` IS NULL
)
SELECT
  `alias`
FROM `ids`
GROUP BY
  `alias`;
