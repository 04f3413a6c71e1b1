{#- Shared pieces of the stage templates. Import them `with context`. -#}

{%- macro usable(prefix="") -%}
{#- Contract rule 1: a row takes part when it has an id, a timestamp and some identity. -#}
{{ prefix }}id IS NOT NULL AND {{ prefix }}timestamp IS NOT NULL
  AND ({{ prefix }}anonymous_id IS NOT NULL OR {{ prefix }}user_id IS NOT NULL)
{%- endmacro -%}

{%- macro deduplicated_events() -%}
{#- The events the contract counts (rules 1 and 2): usable rows of ids seen once, and the
    chosen copy of each repeated id. -#}
SELECT e.id, e.anonymous_id, e.user_id, e.timestamp, e.event
FROM {{ source() }} AS e
LEFT JOIN {{ ref('chosen_copies') }} AS repeated
  ON repeated.id = e.id
WHERE repeated.id IS NULL AND {{ usable("e.") }}
UNION ALL
SELECT id, anonymous_id, user_id, timestamp, event
FROM {{ ref('chosen_copies') }}
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
