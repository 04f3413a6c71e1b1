"""Random adversarial events: the SQL pipeline agrees with a plain-Python reference of the contract."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from tests.helpers import duckdb_connector, load, normalised, params, read_tables, run_pipeline
from tests.reference import journeys
from tests.warehouses import journeyctl

COLUMNS = [("id", "VARCHAR"), ("anonymous_id", "VARCHAR"), ("user_id", "VARCHAR"),
           ("timestamp", "TIMESTAMP"), ("received_at", "TIMESTAMP"), ("event", "VARCHAR")]
EDGE_GAPS_US = [0, 1, 30 * 60_000_000, 30 * 60_000_000 + 1, 30 * 60_000_000 - 1, 59_000_000,
                45 * 60_000_000, 45 * 60_000_000 + 1]


def adversarial_rows(seed: int, n: int = 400) -> list[dict]:
    """Few visitors and devices, shared devices, gaps at the timeout ±1 µs, ties, differing copies."""
    rng = random.Random(seed)
    clock = datetime(2026, 11, 2, 8)
    rows, received = [], datetime(2026, 11, 3)
    for i in range(n):
        gap = rng.choice(EDGE_GAPS_US) if rng.random() < 0.3 else rng.randrange(1, 300_000_000)
        clock += timedelta(microseconds=gap)
        received += timedelta(seconds=1)
        anonymous_id = rng.choice([None, "a1", "a2", "a3", "a4", "u1"])  # "u1" is also a user id
        user_id = rng.choice([None, None, "u1", "u2", "u3"])
        if anonymous_id is None and user_id is None and rng.random() < 0.7:
            anonymous_id = "a5"
        row = {"id": f"e{rng.randrange(n * 2):04d}", "anonymous_id": anonymous_id, "user_id": user_id,
               "timestamp": clock if rng.random() > 0.02 else None,
               "received_at": received if rng.random() > 0.05 else None,
               "event": rng.choice(["view", "add", "buy", "search", None])}
        if rng.random() < 0.01:
            row["id"] = None
        rows.append(row)
        if rng.random() < 0.15:  # a re-delivery, sometimes with a shifted timestamp or another user
            copy = dict(row, received_at=received + timedelta(milliseconds=rng.randrange(1, 999)))
            if rng.random() < 0.5 and row["timestamp"] is not None:
                copy["timestamp"] = row["timestamp"] + timedelta(microseconds=rng.choice([-5, 5, 120_000_000]))
            if rng.random() < 0.3:
                copy["user_id"] = rng.choice(["u1", "u2", None])
            rows.insert(rng.randrange(len(rows) + 1), copy)
    return rows


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("timeout,length", [(30, 5), (45, 3), (0.5, 2)])
def test_pipeline_matches_reference(tmp_path, seed, timeout, length):
    rows = adversarial_rows(seed)
    p = params(idle_timeout_minutes=timeout, journey_length=length)
    with duckdb_connector(tmp_path / "j.duckdb") as connector:
        load(connector, "tracks", COLUMNS, [tuple(r[c] for c, _ in COLUMNS) for r in rows])
        run_pipeline(connector, p)
        built = read_tables(connector, p)
    expected = normalised(journeys(rows, timeout, length))
    for table in expected:
        assert built[table] == expected[table], table


@pytest.mark.parametrize("seed,timeout,length", [(0, 30, 5), (1, 0.5, 2)])
def test_each_warehouse_matches_reference(warehouse, seed, timeout, length):
    """The same adversarial events through `journeyctl run` on each warehouse."""
    rows = adversarial_rows(seed)
    warehouse.load(rows=[tuple(r[c] for c, _ in COLUMNS) for r in rows], columns=COLUMNS)
    result = journeyctl(warehouse.config(), "run", "--target", warehouse.engine,
                        "--idle-timeout", str(timeout), "--journey-length", str(length))
    assert result.exit_code == 0, result.stderr
    p = warehouse.params(idle_timeout_minutes=timeout, journey_length=length)
    with warehouse.connector() as c:
        built = read_tables(c, p)
    expected = normalised(journeys(rows, timeout, length))
    for table in expected:
        assert built[table] == expected[table], table
