"""The same funnels on every engine give DuckDB's rows (which test_funnel.py holds to the contract).

Tracks built to hit the edges (ties on timestamp, microseconds, steps at a window's edge, NULL and
odd names, several attempts, sessions, a Sunday night that ends a month) go through each engine's
own pipeline (`journeyctl run`), so the funnels read dbt_track_facts with the types that engine
gives it (ClickHouse: non-Nullable columns). One test per engine runs every funnel.
"""

from __future__ import annotations

import functools
import random
from datetime import datetime, timedelta

from journeyctl import api
from tests.test_funnel import assert_same
from tests.test_connectors_equivalence import scratch_dir
from tests.warehouses import journeyctl

ODD = "it's 100%_\\ naïve ☕"
COLUMNS = [("id", "VARCHAR"), ("anonymous_id", "VARCHAR"), ("user_id", "VARCHAR"),
           ("timestamp", "TIMESTAMP"), ("received_at", "TIMESTAMP"), ("event", "VARCHAR")]
START = datetime(2024, 3, 31, 21, 0)  # a Sunday, the last day of a month


def tracks() -> list[tuple]:
    """~120 events of 9 visitors on a 10-minute grid (ties, exact windows), some a microsecond off."""
    rng = random.Random(23)
    names = ["Product Viewed", "Product Added", "Order Completed", "Product Removed", ODD, None]
    rows = []
    for v in range(9):
        for n in range(rng.randint(6, 18)):
            ts = START + timedelta(minutes=10 * rng.randint(0, 30),
                                   microseconds=rng.choice([0, 0, 0, 1, 999_999]))
            rows.append((f"id-{rng.randint(0, 10**6):07d}-{v}-{n}", f"anon-{v}", f"user-{v}" if v % 3 == 0 else None,
                         ts, START + timedelta(days=1), rng.choice(names)))
    for v, gaps in enumerate([(0, 10, 20), (0, 10, 30, 40), (5, 15, 35)]):  # whole funnels, in one session
        steps = ["Product Viewed", "Product Added", "Order Completed", ODD]
        rows += [(f"full-{v}-{i}", f"full-{v}", None, START + timedelta(minutes=60 + m, microseconds=v),
                  START + timedelta(days=1), steps[i]) for i, m in enumerate(gaps)]
    return rows


FUNNELS = [
    (["Product Viewed", "Product Added", "Order Completed"], {"interval": "week"}),
    (["Product Viewed", "Product Added|Product Viewed", "Order Completed"],
     {"exclude": ("Product Removed", f"{ODD}@2-3"), "window": "40m", "since": "2024-03-31T21:30:00",
      "until": "2024-04-01T02:00", "interval": "day"}),
    (["Product Viewed", "Product Added", "Order Completed"], {"order": "strict", "per": "session"}),
    (["Product Viewed", "Product Added", "Order Completed|" + ODD], {"order": "any", "window": "1h",
                                                                     "interval": "month"}),
    ([ODD, "Order Completed"], {"per": "session", "exclude": ("Product Removed",)}),
    (["Product Added", "Order Completed"], {"order": "any", "per": "session", "window": "3600s"}),
]


@functools.cache
def duckdb_funnels() -> list[dict]:
    base = scratch_dir("journeyctl-funnel-ref-")
    config = base / "journeyctl.toml"
    config.write_text('[targets.duckdb]\ntype = "duckdb"\npath = "ref.duckdb"\n')
    from journeyctl.config import Target
    from journeyctl.connectors import connect
    from journeyctl.names import TableName
    with connect(Target("duckdb", "duckdb", {"path": str(base / "ref.duckdb")}, base)) as c:
        c.create_table(TableName.parse("tracks"), COLUMNS)
        c.insert_rows(TableName.parse("tracks"), COLUMNS, tracks())
    assert journeyctl(config, "run").exit_code == 0
    return [api.funnel(steps, config=config, **options) for steps, options in FUNNELS]


def test_every_funnel_gives_duckdbs_rows(warehouse):
    want = duckdb_funnels()
    assert want[0]["steps"][1]["units"] > 0 and any(f.get("trend") for f in want)  # the data bites
    warehouse.load(tracks(), COLUMNS)
    config = warehouse.config()
    result = journeyctl(config, "run", "--target", warehouse.engine)
    assert result.exit_code == 0, result.stderr
    for (steps, options), expected in zip(FUNNELS, want):
        got = api.funnel(steps, target=warehouse.engine, config=config, **options)
        assert_same(got, expected)


def test_weeks_begin_on_monday_where_the_stand_ins_cannot_tell():
    """BigQuery's WEEK begins on Sunday, Snowflake's on the account's WEEK_START; their stand-ins
    (DuckDB underneath) start weeks on Monday whatever they are sent, so the rendering is checked."""
    def sql(dialect):
        return api.render_funnel(["A", "B"], dialect=dialect, interval="week")
    assert "TIMESTAMP_TRUNC(`timestamp`, ISOWEEK)" in sql("bigquery")
    assert "DATEADD(DAY, 1 - DAYOFWEEKISO(\"TIMESTAMP\"), DATE_TRUNC('DAY', \"TIMESTAMP\"))" in sql("snowflake")
