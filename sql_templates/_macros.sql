{#- Shared pieces of the stage templates. Import them `with context`. -#}

{%- macro usable(prefix="") -%}
{#- Contract rule 1: a row takes part when it has an id, a timestamp and some identity. -#}
{{ prefix }}id IS NOT NULL AND {{ prefix }}timestamp IS NOT NULL
  AND ({{ prefix }}anonymous_id IS NOT NULL OR {{ prefix }}user_id IS NOT NULL)
{%- endmacro -%}

{%- macro deduplicated_events(with_received_at=False) -%}
{#- The events the contract counts (rules 1 and 2): usable rows of ids seen once, and the
    chosen copy of each repeated id. -#}
SELECT e.id, e.anonymous_id, e.user_id, e.timestamp, e.event{{ ", e.received_at" if with_received_at }}
FROM {{ source() }} AS e
LEFT JOIN {{ ref('chosen_copies') }} AS repeated
  ON repeated.id = e.id
WHERE repeated.id IS NULL AND {{ usable("e.") }}
UNION ALL
SELECT id, anonymous_id, user_id, timestamp, event{{ ", received_at" if with_received_at }}
FROM {{ ref('chosen_copies') }}
{%- endmacro -%}

{%- macro copy_order() -%}
{#- Contract rule 2's choice among copies of one id, first = the one that counts: the earliest
    received_at (a NULL one last), then the earliest timestamp; the other columns only break
    exact ties, so every warehouse keeps the same copy. -#}
{%- if has_received_at %}CASE WHEN received_at IS NULL THEN 1 ELSE 0 END, received_at, {% endif -%}
timestamp, event, anonymous_id, user_id
{%- endmacro -%}

{%- macro aliases_from(events) -%}
{#- The default identity rule (latest_user) over `events` (SQL of counted events): every
    user_id to itself; every other anonymous_id to the user_id of its latest identified
    event, or to itself. -#}
WITH events AS (
  {{ events }}
),
user_ids AS (
  SELECT user_id FROM events WHERE user_id IS NOT NULL GROUP BY user_id
),
anonymous_ids AS (
  SELECT anonymous_id FROM events WHERE anonymous_id IS NOT NULL GROUP BY anonymous_id
),
identified AS (
  SELECT anonymous_id, user_id, timestamp, id
  FROM events
  WHERE anonymous_id IS NOT NULL AND user_id IS NOT NULL
),
last_identified AS (
  SELECT anonymous_id, MAX(timestamp) AS last_timestamp
  FROM identified
  GROUP BY anonymous_id
),
latest AS (
  -- An anonymous id's latest identified event names its visitor (shared device: the later
  -- user); ids break a tie of timestamps. Only the events at that latest timestamp are
  -- ranked: sorting all identified events costs twice the whole stage.
  SELECT
    i.anonymous_id,
    i.user_id,
    ROW_NUMBER() OVER (PARTITION BY i.anonymous_id ORDER BY i.id DESC) AS recency
  FROM identified AS i
  JOIN last_identified AS l
    ON l.anonymous_id = i.anonymous_id AND l.last_timestamp = i.timestamp
)
SELECT user_id AS alias, user_id AS dbt_visitor_id
FROM user_ids
UNION ALL
SELECT a.anonymous_id AS alias, COALESCE(i.user_id, a.anonymous_id) AS dbt_visitor_id
FROM anonymous_ids AS a
LEFT JOIN latest AS i
  ON i.anonymous_id = a.anonymous_id AND i.recency = 1
LEFT JOIN user_ids AS u
  ON u.user_id = a.anonymous_id
WHERE u.user_id IS NULL
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
