-- Baseline: DuckDB translation of models/rudder/dbt_aliases_mapping.sql from the
-- rudderlabs/dbt-sessionization sample project (BigQuery SQL). Algorithm kept as is:
-- UNION DISTINCT of (anonymous_id, user_id) pairs with (user_id, NULL) pairs, then the
-- latest non-NULL user_id per anonymous_id via FIRST_VALUE ... IGNORE NULLS over a full frame.
with dbt_all_mappings as (
    select anonymous_id, user_id, timestamp as timestamp
    from {{ source('rudder', 'tracks') }}

    union distinct

    select user_id, null, timestamp
    from {{ source('rudder', 'tracks') }}
)

select distinct
    anonymous_id as alias,
    coalesce(
        first_value(user_id ignore nulls) over (
            partition by anonymous_id
            order by timestamp desc
            rows between unbounded preceding and unbounded following),
        user_id,
        anonymous_id) as dbt_visitor_id
from dbt_all_mappings
