{%- from "_macros.sql" import differs with context %}
{{ config(
    description="Incremental: the ids (anonymous and user) of every changed event, old and new version, which are the only aliases whose visitor can change by the default rule; in graph mode also every alias whose component's visitor changed.",
    published=False,
) }}
WITH versions AS (
  SELECT anonymous_id, user_id FROM {{ ref('inc_changes') }}
  UNION ALL
  SELECT kept.anonymous_id, kept.user_id
  FROM {{ ref('inc_kept') }} AS kept  -- a changed id was read again
  JOIN {{ ref('inc_changes') }} AS changed
    ON changed.id = kept.id
),
ids AS (
  SELECT anonymous_id AS alias FROM versions WHERE anonymous_id IS NOT NULL
  UNION ALL
  SELECT user_id AS alias FROM versions WHERE user_id IS NOT NULL
  {%- if identity == "graph" %}
  UNION ALL
  -- a new link can merge components far from the changed events: every alias that moves
  SELECT COALESCE(new.alias, old.alias) AS alias
  FROM {{ ref('inc_graph_mapping') }} AS new
  FULL OUTER JOIN {{ ref('dbt_aliases_mapping') }} AS old
    ON old.alias = new.alias
  WHERE {{ differs("old.dbt_visitor_id", "new.dbt_visitor_id") }}
  {%- endif %}
)
SELECT alias FROM ids GROUP BY alias
