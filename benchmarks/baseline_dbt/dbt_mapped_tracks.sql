-- Baseline: DuckDB translation of models/rudder/dbt_mapped_tracks.sql from
-- rudderlabs/dbt-sessionization. Every raw event (no de-duplication) joined to its alias;
-- idle time = whole minutes since the visitor's previous event ordered by timestamp alone.
-- BigQuery's TIMESTAMP_DIFF(a, b, MINUTE) truncates, as DuckDB's date_sub('minute', b, a) does.
select *,
    date_sub('minute',
        cast(lag(timestamp) over (partition by dbt_visitor_id order by timestamp) as timestamp),
        cast(timestamp as timestamp)) as idle_time_minutes
from (
    select t.id as event_id,
        t.anonymous_id,
        a2v.dbt_visitor_id,
        t.timestamp,
        t.event as event
    from {{ source('rudder', 'tracks') }} as t
    inner join {{ ref('dbt_aliases_mapping') }} as a2v
        on a2v.alias = coalesce(t.user_id, t.anonymous_id)
)
