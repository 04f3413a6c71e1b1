DROP TABLE IF EXISTS `journey`.`inc_visitors`;
CREATE TABLE `journey`.`inc_visitors` AS
WITH `visitors` AS (
  SELECT
    `m`.`dbt_visitor_id`
  FROM `journey`.`dbt_aliases_mapping` AS `m`
  JOIN `journey`.`inc_touched` AS `t`
    ON `t`.`alias` = `m`.`alias`
  UNION ALL
  SELECT
    `dbt_visitor_id`
  FROM `journey`.`inc_alias_delta`
)
SELECT
  `dbt_visitor_id`
FROM `visitors`
GROUP BY
  `dbt_visitor_id`;
