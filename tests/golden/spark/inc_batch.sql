DROP TABLE IF EXISTS `journey`.`inc_batch`;
CREATE TABLE `journey`.`inc_batch` AS
SELECT
  `s`.`id`,
  `s`.`anonymous_id`,
  `s`.`user_id`,
  `s`.`timestamp`,
  `s`.`event`,
  `s`.`received_at`
FROM `rudder`.`tracks` AS `s`
CROSS JOIN `journey`.`journeyctl_state` AS `state`
WHERE
  `s`.`received_at` >= `state`.`high_water_mark` - INTERVAL '7' HOUR
  AND (
    UNIX_MICROS(`state`.`high_water_mark`) - UNIX_MICROS(`s`.`received_at`) <= 21600000000
    OR (
      `state`.`high_water_mark` IS NULL AND NOT `s`.`received_at` IS NULL
    )
  );
