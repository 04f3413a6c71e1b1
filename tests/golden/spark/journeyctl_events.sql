DROP TABLE IF EXISTS `journey`.`journeyctl_events`;
CREATE TABLE `journey`.`journeyctl_events` AS
SELECT
  `e`.`id`,
  `e`.`anonymous_id`,
  `e`.`user_id`,
  `e`.`timestamp`,
  `e`.`event`,
  `e`.`received_at`
FROM `rudder`.`tracks` AS `e`
LEFT JOIN `journey`.`chosen_copies` AS `repeated`
  ON `repeated`.`id` = `e`.`id`
WHERE
  `repeated`.`id` IS NULL
  AND NOT `e`.`id` IS NULL
  AND NOT `e`.`timestamp` IS NULL
  AND (
    NOT `e`.`anonymous_id` IS NULL OR NOT `e`.`user_id` IS NULL
  )
UNION ALL
SELECT
  `id`,
  `anonymous_id`,
  `user_id`,
  `timestamp`,
  `event`,
  `received_at`
FROM `journey`.`chosen_copies`;
