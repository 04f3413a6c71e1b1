DROP TABLE IF EXISTS `journey`.`inc_kept`;
CREATE TABLE `journey`.`inc_kept` AS
SELECT
  `kept`.`id`,
  `kept`.`anonymous_id`,
  `kept`.`user_id`,
  `kept`.`timestamp`,
  `kept`.`event`,
  `kept`.`received_at`
FROM `journey`.`journeyctl_events` AS `kept`
JOIN (
  SELECT
    `id` AS `read_id`
  FROM `journey`.`inc_batch`
  GROUP BY
    `id`
) AS `read_again`
  ON `read_again`.`read_id` = `kept`.`id`;
