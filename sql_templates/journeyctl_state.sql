{{ config(
    description="Kept for incremental runs: what shaped the tables (settings and their fingerprint), the largest received_at processed, and the run that wrote it.",
    enabled=incremental,
) }}
SELECT
  '{{ fingerprint }}' AS fingerprint,
  '{{ settings }}' AS settings,
  MAX(received_at) AS high_water_mark,
  '{{ run_id }}' AS run_id
FROM {{ source() }}
