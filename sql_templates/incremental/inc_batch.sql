{{ config(
    description="Incremental: the source rows loaded since the high-water mark minus the lookback, usable or not.",
    published=False,
) }}
{%- from "incremental/_events.sql" import event_columns with context %}
{#- The lookback is an exact microsecond difference (the gap's own expression on every dialect),
    not interval arithmetic, whose literals differ between warehouses. When the state holds a
    mark, a plain range over whole hours, a superset of it, comes first: engines skip the
    stored blocks of older rows by it instead of computing the difference for every row. -#}
SELECT {{ event_columns("s.") }}
FROM {{ source() }} AS s
CROSS JOIN {{ ref('journeyctl_state') }} AS state
WHERE
{%- if state_has_mark %}
  s.received_at >= state.high_water_mark - INTERVAL {{ lookback_whole_hours }} HOUR AND
{%- endif %}
  (TIMESTAMP_DIFF(state.high_water_mark, s.received_at, MICROSECOND) <= {{ lookback_microseconds }}
   OR (state.high_water_mark IS NULL AND s.received_at IS NOT NULL))
