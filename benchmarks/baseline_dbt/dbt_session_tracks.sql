-- Baseline: DuckDB translation of models/rudder/dbt_session_tracks.sql from
-- rudderlabs/dbt-sessionization. A session starts at an event with no predecessor or more
-- than 30 idle minutes; sessions are numbered per visitor (CAST(... AS STRING) -> VARCHAR).
select concat(
        cast(row_number() over (partition by dbt_visitor_id order by timestamp) as varchar),
        ' - ', dbt_visitor_id) as session_id,
    dbt_visitor_id,
    timestamp as session_start_at,
    row_number() over (partition by dbt_visitor_id order by timestamp) as session_sequence_number,
    lead(timestamp) over (partition by dbt_visitor_id order by timestamp) as next_session_start_at
from {{ ref('dbt_mapped_tracks') }}
where (idle_time_minutes > 30 or idle_time_minutes is null)
