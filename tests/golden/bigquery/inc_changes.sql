CREATE OR REPLACE TABLE `journey`.`inc_changes` AS
WITH `candidates` AS (
  SELECT
    `id`,
    `anonymous_id`,
    `user_id`,
    `timestamp`,
    `event`,
    `received_at`
  FROM `journey`.`inc_batch`
  WHERE
    NOT `id` IS NULL
    AND NOT `timestamp` IS NULL
    AND (
      NOT `anonymous_id` IS NULL OR NOT `user_id` IS NULL
    )
  UNION ALL
  SELECT
    `id`,
    `anonymous_id`,
    `user_id`,
    `timestamp`,
    `event`,
    `received_at`
  FROM `journey`.`inc_kept`
), `ranked` AS (
  SELECT
    `candidates`.*,
    ROW_NUMBER() OVER (
      PARTITION BY `id`
      ORDER BY CASE WHEN `received_at` IS NULL THEN 1 ELSE 0 END, `received_at`, `timestamp`, `event`, `anonymous_id`, `user_id`
    ) AS `copy_number`
  FROM `candidates`
)
SELECT
  `r`.`id`,
  `r`.`anonymous_id`,
  `r`.`user_id`,
  `r`.`timestamp`,
  `r`.`event`,
  `r`.`received_at`
FROM `ranked` AS `r`
LEFT JOIN `journey`.`inc_kept` AS `kept`
  ON `kept`.`id` = `r`.`id`
WHERE
  `r`.`copy_number` = 1
  AND (
    `kept`.`id` IS NULL
    OR (
      (
        `kept`.`anonymous_id`
      ) <> (
        `r`.`anonymous_id`
      )
      OR (
        (
          `kept`.`anonymous_id`
        ) IS NULL AND NOT (
          `r`.`anonymous_id`
        ) IS NULL
      )
      OR (
        NOT (
          `kept`.`anonymous_id`
        ) IS NULL AND (
          `r`.`anonymous_id`
        ) IS NULL
      )
    )
    OR (
      (
        `kept`.`user_id`
      ) <> (
        `r`.`user_id`
      )
      OR (
        (
          `kept`.`user_id`
        ) IS NULL AND NOT (
          `r`.`user_id`
        ) IS NULL
      )
      OR (
        NOT (
          `kept`.`user_id`
        ) IS NULL AND (
          `r`.`user_id`
        ) IS NULL
      )
    )
    OR (
      (
        `kept`.`timestamp`
      ) <> (
        `r`.`timestamp`
      )
      OR (
        (
          `kept`.`timestamp`
        ) IS NULL AND NOT (
          `r`.`timestamp`
        ) IS NULL
      )
      OR (
        NOT (
          `kept`.`timestamp`
        ) IS NULL AND (
          `r`.`timestamp`
        ) IS NULL
      )
    )
    OR (
      (
        `kept`.`event`
      ) <> (
        `r`.`event`
      )
      OR (
        (
          `kept`.`event`
        ) IS NULL AND NOT (
          `r`.`event`
        ) IS NULL
      )
      OR (
        NOT (
          `kept`.`event`
        ) IS NULL AND (
          `r`.`event`
        ) IS NULL
      )
    )
    OR (
      (
        `kept`.`received_at`
      ) <> (
        `r`.`received_at`
      )
      OR (
        (
          `kept`.`received_at`
        ) IS NULL AND NOT (
          `r`.`received_at`
        ) IS NULL
      )
      OR (
        NOT (
          `kept`.`received_at`
        ) IS NULL AND (
          `r`.`received_at`
        ) IS NULL
      )
    )
  );
