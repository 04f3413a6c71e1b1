ALTER TABLE `journey`.`journey_events`
DROP COLUMN `anonymous_id`;
ALTER TABLE `journey`.`journey_events`
DROP COLUMN `session_sequence_number`;
ALTER TABLE `journey`.`journey_events`
DROP COLUMN `idle_time_minutes`;
DROP TABLE IF EXISTS `journey`.`dbt_tracks_flow`;
ALTER TABLE `journey`.`journey_events`
RENAME TO `dbt_tracks_flow`;
