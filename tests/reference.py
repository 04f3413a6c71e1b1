"""The journey contract written plainly in Python, as an independent oracle for the SQL."""

from __future__ import annotations

from collections import defaultdict


def journeys(rows: list[dict], idle_timeout: float = 30, journey_length: int = 5) -> dict[str, set[tuple]]:
    """The five tables for `rows` (dicts with id, anonymous_id, user_id, timestamp, event[, received_at])."""
    usable = [r for r in rows if r["id"] is not None and r["timestamp"] is not None
              and (r["anonymous_id"] is not None or r["user_id"] is not None)]
    copies = defaultdict(list)
    for r in usable:
        copies[r["id"]].append(r)

    def preference(r):
        # Earliest received_at (NULL last), then earliest timestamp; exact ties broken as the SQL
        # does, by event, anonymous_id, user_id with NULL first.
        received = r.get("received_at")
        ties = [(v is not None, v or "") for v in (r["event"], r["anonymous_id"], r["user_id"])]
        return (received is None, received or r["timestamp"], r["timestamp"], *ties)

    events = [min(group, key=preference) for group in copies.values()]
    order = lambda e: (e["timestamp"], e["id"])  # noqa: E731

    user_ids = {e["user_id"] for e in events if e["user_id"] is not None}
    aliases = {(u, u) for u in user_ids}
    latest: dict[str, dict] = {}
    for e in events:
        a = e["anonymous_id"]
        if a is not None and e["user_id"] is not None and (a not in latest or order(e) > order(latest[a])):
            latest[a] = e
    for a in {e["anonymous_id"] for e in events if e["anonymous_id"] is not None} - user_ids:
        aliases.add((a, latest[a]["user_id"] if a in latest else a))
    visitor_of = dict(aliases)

    by_visitor = defaultdict(list)
    for e in events:
        by_visitor[visitor_of[e["user_id"] if e["user_id"] is not None else e["anonymous_id"]]].append(e)

    mapped, sessions, facts, flow = set(), set(), set(), set()
    for visitor, evs in by_visitor.items():
        evs.sort(key=order)
        session, seq, starts, members = 0, 0, [], []
        for i, e in enumerate(evs):
            idle = None if i == 0 else (e["timestamp"] - evs[i - 1]["timestamp"]) / _US / 60_000_000
            if idle is None or idle > idle_timeout:
                session, seq = session + 1, 0
                starts.append(e["timestamp"])
                members.append([])
            seq += 1
            session_id = f"{session} - {visitor}"
            members[-1].append(e)
            mapped.add((e["id"], e["anonymous_id"], visitor, e["timestamp"], e["event"],
                        None if idle is None else round(idle, 9)))
            facts.add((e["anonymous_id"], e["timestamp"], e["id"], e["event"], session_id, visitor, seq))
        for n, start in enumerate(starts, 1):
            sessions.add((f"{n} - {visitor}", visitor, start, n, starts[n] if n < len(starts) else None))
        for n, group in enumerate(members, 1):
            for i, e in enumerate(group):
                nxt = [g["event"] for g in group[i + 1:i + journey_length]]
                nxt += [None] * (journey_length - 1 - len(nxt))
                flow.add((e["id"], f"{n} - {visitor}", i + 1, e["event"], visitor, e["timestamp"], *nxt))
    return {"dbt_aliases_mapping": aliases, "dbt_mapped_tracks": mapped, "dbt_session_tracks": sessions,
            "dbt_track_facts": facts, "dbt_tracks_flow": flow}


_US = __import__("datetime").timedelta(microseconds=1)
