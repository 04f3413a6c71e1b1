-- Baseline: DuckDB translation of models/rudder/dbt_track_facts.sql from
-- rudderlabs/dbt-sessionization. Events find their session through a range join on
-- [session_start_at, next_session_start_at) per visitor, then are numbered within it.
select t.anonymous_id,
    t.timestamp,
    t.event_id,
    t.event as event,
    s.session_id,
    t.dbt_visitor_id,
    row_number() over (partition by s.session_id order by t.timestamp) as track_sequence_number
from {{ ref('dbt_mapped_tracks') }} as t
inner join {{ ref('dbt_session_tracks') }} as s
    on t.dbt_visitor_id = s.dbt_visitor_id
    and t.timestamp >= s.session_start_at
    and (t.timestamp < s.next_session_start_at or s.next_session_start_at is null)
