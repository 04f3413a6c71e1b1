{{ config(
    description="Incremental: the state this run leaves: the high-water mark moves to the largest received_at read (the apply adds the run's id).",
    published=False,
) }}
SELECT
  state.fingerprint,
  state.settings,
  CASE
    WHEN read.latest IS NULL OR state.high_water_mark >= read.latest THEN state.high_water_mark
    ELSE read.latest
  END AS high_water_mark
FROM {{ ref('journeyctl_state') }} AS state
CROSS JOIN (SELECT MAX(received_at) AS latest FROM {{ ref('inc_batch') }}) AS read
