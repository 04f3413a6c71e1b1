DROP TABLE IF EXISTS `journey`.`dbt_mapped_tracks`;
CREATE TABLE `journey`.`dbt_mapped_tracks` AS
SELECT
  `event_id`,
  `anonymous_id`,
  `dbt_visitor_id`,
  `timestamp`,
  `event`,
  `idle_time_minutes`
FROM `journey`.`journey_events`;
