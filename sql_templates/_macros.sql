{#- Shared pieces of the stage templates. Import them `with context`. -#}

{%- macro deduplicated_events() -%}
{#- Contract rules 1 and 2: drop unusable rows, then keep one copy per id (earliest
    received_at, then earliest timestamp; the other columns only break exact ties so
    every warehouse keeps the same copy). -#}
SELECT id, anonymous_id, user_id, timestamp, event
FROM (
  SELECT
    id, anonymous_id, user_id, timestamp, event,
    ROW_NUMBER() OVER (
      PARTITION BY id
      ORDER BY
        {%- if has_received_at %} CASE WHEN received_at IS NULL THEN 1 ELSE 0 END, received_at,{% endif %}
        timestamp, event, anonymous_id, user_id
    ) AS copy_number
  FROM {{ source() }}
  WHERE id IS NOT NULL
    AND timestamp IS NOT NULL
    AND (anonymous_id IS NOT NULL OR user_id IS NOT NULL)
) AS copies
WHERE copy_number = 1
{%- endmacro -%}

{%- macro minutes_between(earlier, later) -%}
{#- The exact gap: whole microseconds, as a double, in minutes (never a minute diff). -#}
CAST(TIMESTAMP_DIFF({{ later }}, {{ earlier }}, MICROSECOND) AS DOUBLE) / 60000000.0
{%- endmacro -%}

{%- macro starts_session(idle_minutes) -%}
{{ idle_minutes }} IS NULL OR {{ idle_minutes }} > {{ idle_timeout_minutes }}
{%- endmacro -%}

{%- macro differs(a, b) -%}
{#- NULL-safe "a differs from b" (Redshift has no IS DISTINCT FROM). -#}
(({{ a }}) <> ({{ b }}) OR (({{ a }}) IS NULL AND ({{ b }}) IS NOT NULL) OR (({{ a }}) IS NOT NULL AND ({{ b }}) IS NULL))
{%- endmacro -%}

{%- macro capped(value, cap) -%}
{#- A distribution bucket: the value itself, or `cap` for anything at or above it. -#}
CASE WHEN {{ value }} >= {{ cap }} THEN {{ cap }} ELSE {{ value }} END
{%- endmacro -%}
