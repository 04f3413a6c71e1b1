DROP TABLE IF EXISTS `journey`.`inc_mapping`;
CREATE TABLE `journey`.`inc_mapping` AS
SELECT
  `m`.`alias`,
  `m`.`dbt_visitor_id`
FROM `journey`.`dbt_aliases_mapping` AS `m`
JOIN `journey`.`inc_visitors` AS `v`
  ON `v`.`dbt_visitor_id` = `m`.`dbt_visitor_id`
LEFT JOIN `journey`.`inc_touched` AS `t`
  ON `t`.`alias` = `m`.`alias`
WHERE
  `t`.`alias` IS NULL
UNION ALL
SELECT
  `alias`,
  `dbt_visitor_id`
FROM `journey`.`inc_alias_delta`;
