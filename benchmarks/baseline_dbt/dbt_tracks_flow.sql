-- Baseline: DuckDB translation of models/rudder/dbt_tracks_flow.sql from
-- rudderlabs/dbt-sessionization. FIRST_VALUE / NTH_VALUE ... IGNORE NULLS over the default
-- frame (session start .. current row), as in the original: not the "next N-1 events" of
-- the journey contract, kept because this is the baseline being timed.
with derived_table as (
    select event_id,
        session_id,
        track_sequence_number,
        first_value(event ignore nulls)
            over (partition by session_id order by track_sequence_number asc) as event,
        dbt_visitor_id,
        timestamp,
        nth_value(event, 2 ignore nulls)
            over (partition by session_id order by track_sequence_number asc) as second_event,
        nth_value(event, 3 ignore nulls)
            over (partition by session_id order by track_sequence_number asc) as third_event,
        nth_value(event, 4 ignore nulls)
            over (partition by session_id order by track_sequence_number asc) as fourth_event,
        nth_value(event, 5 ignore nulls)
            over (partition by session_id order by track_sequence_number asc) as fifth_event
    from {{ ref('dbt_track_facts') }}
)

select event_id,
    session_id,
    track_sequence_number,
    event,
    dbt_visitor_id,
    cast(timestamp as timestamp) as timestamp,
    second_event as event_2,
    third_event as event_3,
    fourth_event as event_4,
    fifth_event as event_5
from derived_table as a
