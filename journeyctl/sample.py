"""Synthetic RudderStack `tracks` rows that exercise every rule of the contract.

Visitors browse anonymously on one to three devices, some log in (so earlier
anonymous events join their user), some devices are shared by two users, RudderStack
re-delivers a few events (duplicates with a later received_at), events come in bursts
with equal timestamps, and some gaps sit exactly on, or just past, the idle timeout.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Iterator

from sqlglot import exp

from journeyctl.connectors.base import Connector
from journeyctl.names import TableName

COLUMNS = [
    ("id", "VARCHAR"),
    ("anonymous_id", "VARCHAR"),
    ("user_id", "VARCHAR"),
    ("timestamp", "TIMESTAMP"),
    ("received_at", "TIMESTAMP"),
    ("sent_at", "TIMESTAMP"),
    ("original_timestamp", "TIMESTAMP"),
    ("event", "VARCHAR"),
    ("event_text", "VARCHAR"),
    ("context_library_name", "VARCHAR"),
    ("context_page_path", "VARCHAR"),
]

# A small Markov chain of shop events: next event → weight.
FLOW = {
    "Page Viewed": {"Product List Viewed": 4, "Products Searched": 3, "Page Viewed": 2, "Signed Up": 1},
    "Products Searched": {"Product List Viewed": 3, "Product Viewed": 4, "Products Searched": 1},
    "Product List Viewed": {"Product Viewed": 6, "Page Viewed": 1},
    "Product Viewed": {"Product Added": 3, "Product Viewed": 3, "Product List Viewed": 2},
    "Product Added": {"Cart Viewed": 4, "Product Viewed": 2, "Checkout Started": 2},
    "Cart Viewed": {"Checkout Started": 4, "Product Removed": 1, "Product Viewed": 1},
    "Product Removed": {"Cart Viewed": 1, "Product Viewed": 2},
    "Checkout Started": {"Payment Info Entered": 4, "Coupon Applied": 1, "Cart Viewed": 1},
    "Coupon Applied": {"Payment Info Entered": 1},
    "Payment Info Entered": {"Order Completed": 5, "Checkout Started": 1},
    "Order Completed": {"Page Viewed": 1},
    "Signed Up": {"Product List Viewed": 2, "Page Viewed": 1},
}
ENTRY = {"Page Viewed": 6, "Products Searched": 2, "Product Viewed": 2, "Cart Viewed": 1}
START = datetime(2026, 10, 1)
TIMEOUT = timedelta(minutes=30)


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _gap_between_sessions(rng: random.Random) -> timedelta:
    roll = rng.random()
    if roll < 0.05:
        return TIMEOUT  # exactly the timeout: stays in the same session
    if roll < 0.10:
        return TIMEOUT + timedelta(microseconds=1)  # just past it: a new session
    return timedelta(minutes=rng.uniform(31, 60 * 24 * 3))


def _gap_within_session(rng: random.Random) -> timedelta:
    if rng.random() < 0.08:
        return timedelta(0)  # a burst: same timestamp, order decided by id
    return timedelta(seconds=rng.expovariate(1 / 40), microseconds=rng.randrange(1000) * 1000)


def events(n: int, seed: int = 42) -> Iterator[tuple]:
    """About `n` rows (duplicates included) in the shape of COLUMNS, deterministic per seed."""
    rng = random.Random(seed)
    emitted = 0
    person = 0
    while emitted < n:
        person += 1
        user_id = f"user-{person}" if rng.random() < 0.6 else None
        devices = [f"anon-{rng.getrandbits(48):012x}" for _ in range(rng.choice([1, 1, 1, 2, 3]))]
        login_at = rng.randrange(0, 12)  # this person's events before it are anonymous
        seen = 0
        clock = START + timedelta(minutes=rng.uniform(0, 60 * 24 * 28))
        for _ in range(rng.choice([1, 1, 2, 2, 3, 4, 6])):
            device = rng.choice(devices)
            # Now and then a second user logs in on the same device.
            session_user = f"user-{person}-partner" if user_id and rng.random() < 0.03 else user_id
            event = _pick(rng, ENTRY)
            for _ in range(max(1, int(rng.expovariate(1 / 7)))):
                uid = session_user if seen >= login_at else None
                # Server-side events of a known user may come without an anonymous id.
                anonymous_id = None if uid and rng.random() < 0.02 else device
                received = clock + timedelta(milliseconds=rng.randrange(50, 3000))
                row = (f"{rng.getrandbits(128):032x}", anonymous_id, uid, clock, received,
                       received - timedelta(milliseconds=20), clock, event, event,
                       "rudder-analytics-javascript", "/" + event.lower().replace(" ", "-"))
                yield row
                if rng.random() < 0.02:  # at-least-once delivery: the same id again, later
                    yield (*row[:4], received + timedelta(seconds=rng.randrange(1, 600)), *row[5:])
                    emitted += 1
                emitted += 1
                seen += 1
                clock += _gap_within_session(rng)
                event = _pick(rng, FLOW[event])
            clock += _gap_between_sessions(rng)


def load_sample(connector: Connector, table: TableName, n: int, seed: int = 42) -> int:
    """Replace `table` on an open connector with about `n` synthetic events; return the row count."""
    if len(table.parts) > 1:
        schema = exp.Table(this=exp.to_identifier(table.parts[-2]),
                           db=exp.to_identifier(table.parts[0]) if len(table.parts) == 3 else None)
        connector.execute(connector.render(exp.Create(this=schema, kind="SCHEMA", exists=True)))
    connector.create_table(table, COLUMNS)
    connector.insert_rows(table, COLUMNS, events(n, seed))
    return connector.count_rows(table)
