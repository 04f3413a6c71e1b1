{{ config(
    description="Incremental: the source rows loaded since the high-water mark minus the lookback, usable or not.",
    published=False,
) }}
{%- from "incremental/_events.sql" import event_columns with context %}
{#- As an exact microsecond difference (the gap's own expression on every dialect), not interval
    arithmetic, whose literals differ between warehouses. -#}
SELECT {{ event_columns("s.") }}
FROM {{ source() }} AS s
CROSS JOIN {{ ref('journeyctl_state') }} AS state
WHERE TIMESTAMP_DIFF(state.high_water_mark, s.received_at, MICROSECOND) <= {{ lookback_microseconds }}
  OR (state.high_water_mark IS NULL AND s.received_at IS NOT NULL)
