{#- Pieces shared by the incremental stages. Import them `with context`. -#}

{%- macro event_columns(prefix="") -%}
{{ prefix }}id, {{ prefix }}anonymous_id, {{ prefix }}user_id, {{ prefix }}timestamp, {{ prefix }}event, {{ prefix }}received_at
{%- endmacro -%}

{%- macro next_events() -%}
{#- The kept events as this run leaves them: unchanged ones, and the new version of each changed id. -#}
SELECT {{ event_columns("kept.") }}
FROM {{ ref('journeyctl_events') }} AS kept
LEFT JOIN {{ ref('inc_changes') }} AS changed
  ON changed.id = kept.id
WHERE changed.id IS NULL
UNION ALL
SELECT {{ event_columns() }}
FROM {{ ref('inc_changes') }}
{%- endmacro -%}
