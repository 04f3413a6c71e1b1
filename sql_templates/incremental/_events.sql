{#- Pieces shared by the incremental stages. Import them `with context`. -#}

{%- macro event_columns(prefix="") -%}
{{ prefix }}id, {{ prefix }}anonymous_id, {{ prefix }}user_id, {{ prefix }}timestamp, {{ prefix }}event, {{ prefix }}received_at
{%- endmacro -%}

{%- macro next_events(where="TRUE") -%}
{#- The kept events as this run leaves them, those for which `where` holds (a condition on the
    event's columns, unqualified): unchanged ones, and the new version of each changed id. The
    condition comes before the anti-join, so the history is filtered in one scan. -#}
SELECT {{ event_columns("kept.") }}
FROM (SELECT * FROM {{ ref('journeyctl_events') }} WHERE {{ where }}) AS kept
LEFT JOIN {{ ref('inc_changes') }} AS changed
  ON changed.id = kept.id
WHERE changed.id IS NULL
UNION ALL
SELECT {{ event_columns() }}
FROM {{ ref('inc_changes') }}
WHERE {{ where }}
{%- endmacro -%}
