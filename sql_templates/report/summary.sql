{#- One row: the headline numbers of the built journey tables. -#}
SELECT
  (SELECT COUNT(*) FROM {{ ref('dbt_track_facts') }}) AS events,
  (SELECT COUNT(DISTINCT dbt_visitor_id) FROM {{ ref('dbt_track_facts') }}) AS visitors,
  (SELECT COUNT(*) FROM {{ ref('dbt_session_tracks') }}) AS sessions
