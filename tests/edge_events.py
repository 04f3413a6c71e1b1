"""Hand-written events for every rule of the journey contract, with expected rows by hand.

All on 2026-11-02. Visitors: `anon-a` is never identified; device `dev-1` is used by
user-1 then user-2 (shared: maps to the later user, user-2); `dev-2` belongs to user-2;
an anonymous id equal to a user_id ("user-1") is that user's alias.
"""

from __future__ import annotations

from datetime import datetime


def ts(clock: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-02 {clock}")


COLUMNS = [
    ("id", "VARCHAR"), ("anonymous_id", "VARCHAR"), ("user_id", "VARCHAR"),
    ("timestamp", "TIMESTAMP"), ("received_at", "TIMESTAMP"), ("event", "VARCHAR"),
    ("context_page_path", "VARCHAR"),
]

R = ts("23:00:00")  # received_at for first deliveries
ROWS = [
    # id, anonymous_id, user_id, timestamp, received_at, event, context
    ("a1", "anon-a", None, ts("12:00:00"), R, "Page Viewed", "/"),
    ("a2", "anon-a", None, ts("12:30:00"), ts("23:30:00"), "DUPLICATE (later received_at)", "/"),
    ("a2", "anon-a", None, ts("12:30:00"), R, "Product Viewed", "/p"),          # exactly 30 min: same session
    ("a3", "anon-a", None, ts("13:00:00.000001"), R, "Product Added", "/p"),   # 30 min + 1 µs: new session
    ("a4", "anon-a", None, ts("13:00:59"), R, "Cart Viewed", "/cart"),
    ("a4", "anon-a", None, ts("13:00:59"), None, "DUPLICATE (NULL received_at)", "/cart"),
    ("a6", "anon-a", None, ts("13:31:00"), R, "Order Completed", "/done"),      # 13:00:59 → 13:31:00: new session
    ("a5", "anon-a", None, ts("13:31:00"), R, "Checkout Started", "/checkout"),  # same timestamp: a5 before a6
    ("b1", "dev-1", None, ts("09:00:00"), R, "Page Viewed", "/"),
    ("b2", "dev-1", "user-1", ts("09:05:00"), R, "Signed Up", "/signup"),
    ("b3", None, "user-1", ts("09:10:00"), R, "Order Completed", "/done"),
    ("d1", "user-1", None, ts("09:20:00"), R, "Page Viewed", "/"),
    ("c1", "dev-1", "user-2", ts("10:00:00"), R, "Logged In", "/login"),
    ("c2", "dev-2", "user-2", ts("10:10:00"), R, "Product Viewed", "/p"),
    ("c3", "dev-2", None, ts("10:20:00"), R, "Cart Viewed", "/cart"),
    # Rule 1: these take no part.
    (None, "anon-x", None, ts("12:00:00"), R, "no id", "/"),
    ("x2", "anon-x", None, None, R, "no timestamp", "/"),
    ("x3", None, None, ts("12:00:00"), R, "nobody", "/"),
]
DROPPED_BY_RULES = 3
DUPLICATES_COLLAPSED = 2

ALIASES = {
    ("user-1", "user-1"), ("user-2", "user-2"), ("anon-a", "anon-a"),
    ("dev-1", "user-2"), ("dev-2", "user-2"),
}

# event_id, anonymous_id, dbt_visitor_id, timestamp, event, idle_time_minutes
MAPPED_TRACKS = {
    ("a1", "anon-a", "anon-a", ts("12:00:00"), "Page Viewed", None),
    ("a2", "anon-a", "anon-a", ts("12:30:00"), "Product Viewed", 30.0),
    ("a3", "anon-a", "anon-a", ts("13:00:00.000001"), "Product Added", 1_800_000_001 / 60_000_000),
    ("a4", "anon-a", "anon-a", ts("13:00:59"), "Cart Viewed", 58_999_999 / 60_000_000),
    ("a5", "anon-a", "anon-a", ts("13:31:00"), "Checkout Started", 1_801_000_000 / 60_000_000),
    ("a6", "anon-a", "anon-a", ts("13:31:00"), "Order Completed", 0.0),
    ("b1", "dev-1", "user-2", ts("09:00:00"), "Page Viewed", None),
    ("b2", "dev-1", "user-1", ts("09:05:00"), "Signed Up", None),
    ("b3", None, "user-1", ts("09:10:00"), "Order Completed", 5.0),
    ("d1", "user-1", "user-1", ts("09:20:00"), "Page Viewed", 10.0),
    ("c1", "dev-1", "user-2", ts("10:00:00"), "Logged In", 60.0),
    ("c2", "dev-2", "user-2", ts("10:10:00"), "Product Viewed", 10.0),
    ("c3", "dev-2", "user-2", ts("10:20:00"), "Cart Viewed", 10.0),
}

# Default parameters: idle timeout 30, journey length 5.
# session_id, dbt_visitor_id, session_start_at, session_sequence_number, next_session_start_at
SESSION_TRACKS = {
    ("1 - anon-a", "anon-a", ts("12:00:00"), 1, ts("13:00:00.000001")),
    ("2 - anon-a", "anon-a", ts("13:00:00.000001"), 2, ts("13:31:00")),
    ("3 - anon-a", "anon-a", ts("13:31:00"), 3, None),
    ("1 - user-1", "user-1", ts("09:05:00"), 1, None),
    ("1 - user-2", "user-2", ts("09:00:00"), 1, ts("10:00:00")),
    ("2 - user-2", "user-2", ts("10:00:00"), 2, None),
}

# event_id → (session_id, track_sequence_number)
SESSION_OF = {
    "a1": ("1 - anon-a", 1), "a2": ("1 - anon-a", 2),
    "a3": ("2 - anon-a", 1), "a4": ("2 - anon-a", 2),
    "a5": ("3 - anon-a", 1), "a6": ("3 - anon-a", 2),
    "b2": ("1 - user-1", 1), "b3": ("1 - user-1", 2), "d1": ("1 - user-1", 3),
    "b1": ("1 - user-2", 1), "c1": ("2 - user-2", 1), "c2": ("2 - user-2", 2), "c3": ("2 - user-2", 3),
}

# event_id → event_2 … event_5
NEXT_EVENTS = {
    "a1": ["Product Viewed"], "a2": [], "a3": ["Cart Viewed"], "a4": [],
    "a5": ["Order Completed"], "a6": [],
    "b2": ["Order Completed", "Page Viewed"], "b3": ["Page Viewed"], "d1": [],
    "b1": [], "c1": ["Product Viewed", "Cart Viewed"], "c2": ["Cart Viewed"], "c3": [],
}

# Idle timeout 60 (c1's gap of exactly 60 stays in), journey length 3: one session per visitor.
SESSION_OF_60 = {
    "a1": ("1 - anon-a", 1), "a2": ("1 - anon-a", 2), "a3": ("1 - anon-a", 3),
    "a4": ("1 - anon-a", 4), "a5": ("1 - anon-a", 5), "a6": ("1 - anon-a", 6),
    "b2": ("1 - user-1", 1), "b3": ("1 - user-1", 2), "d1": ("1 - user-1", 3),
    "b1": ("1 - user-2", 1), "c1": ("1 - user-2", 2), "c2": ("1 - user-2", 3), "c3": ("1 - user-2", 4),
}
NEXT_EVENTS_60_3 = {
    "a1": ["Product Viewed", "Product Added"], "a2": ["Product Added", "Cart Viewed"],
    "a3": ["Cart Viewed", "Checkout Started"], "a4": ["Checkout Started", "Order Completed"],
    "a5": ["Order Completed"], "a6": [],
    "b2": ["Order Completed", "Page Viewed"], "b3": ["Page Viewed"], "d1": [],
    "b1": ["Logged In", "Product Viewed"], "c1": ["Product Viewed", "Cart Viewed"],
    "c2": ["Cart Viewed"], "c3": [],
}


def expected_tables(session_of=SESSION_OF, next_events=NEXT_EVENTS, journey_length=5,
                    session_tracks=SESSION_TRACKS) -> dict[str, set[tuple]]:
    """The five tables as sets of rows, in each table's column order."""
    events = {row[0]: row for row in MAPPED_TRACKS}
    facts = {(e[1], e[3], e[0], e[4], *session_of[e[0]][:1], e[2], session_of[e[0]][1])
             for e in events.values()}
    flow = set()
    for event_id, (session_id, seq) in session_of.items():
        e = events[event_id]
        nxt = next_events[event_id] + [None] * (journey_length - 1 - len(next_events[event_id]))
        flow.add((event_id, session_id, seq, e[4], e[2], e[3], *nxt))
    return {
        "dbt_aliases_mapping": set(ALIASES),
        "dbt_mapped_tracks": set(MAPPED_TRACKS),
        "dbt_session_tracks": set(session_tracks),
        "dbt_track_facts": facts,
        "dbt_tracks_flow": flow,
    }


SESSION_TRACKS_60 = {
    ("1 - anon-a", "anon-a", ts("12:00:00"), 1, None),
    ("1 - user-1", "user-1", ts("09:05:00"), 1, None),
    ("1 - user-2", "user-2", ts("09:00:00"), 1, None),
}
