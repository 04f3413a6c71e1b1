"""The paths contract (journey-analysis.md, "Paths") in plain Python, written from its text alone:
the reference the SQL is compared with. Small inputs only; clarity over speed."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import datetime
from typing import NamedTuple, Sequence


class Fact(NamedTuple):
    """One row of dbt_track_facts, as far as paths read it."""

    session_id: str
    dbt_visitor_id: str
    timestamp: datetime
    event_id: str
    event: str | None


def pattern_matches(pattern: str, name: str) -> bool:
    """`*` is any run of characters (the empty one too); every other character is itself."""
    regex = "".join(".*" if c == "*" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, name, flags=re.DOTALL) is not None


def cleaned(facts: Sequence[Fact], per: str, exclude=(), group=(), keep_repeats=False,
            since: datetime | None = None, until: datetime | None = None) -> dict[str, list[str]]:
    units: dict[str, list[str]] = defaultdict(list)
    for f in sorted(facts, key=lambda f: (f.timestamp, f.event_id)):
        if f.event is None:
            continue
        if (since is not None and f.timestamp < since) or (until is not None and f.timestamp >= until):
            continue
        if any(pattern_matches(p, f.event) for p in exclude):
            continue
        item = next((name for p, name in group if pattern_matches(p, f.event)), f.event)
        seq = units[f.session_id if per == "session" else f.dbt_visitor_id]
        if not keep_repeats and seq and seq[-1] == item:
            continue
        seq.append(item)
    return units


def cut(seq: list[str], steps: int, start: str | None, end: str | None) -> tuple[list[str], int] | None:
    """The unit's path and the position of its first item, or None when it has none."""
    if start is None and end is None:
        return (seq[:steps], 1) if seq else None
    if end is None:
        if start not in seq:
            return None
        i = seq.index(start)
        return seq[i:i + steps], 1
    if start is None:
        if end not in seq:
            return None
        j = seq.index(end)
        path = seq[max(0, j - steps + 1):j + 1]
        return path, 1 - len(path)
    if start not in seq:
        return None
    i = seq.index(start)
    later = [j for j in range(i + 1, len(seq)) if seq[j] == end]
    if not later:
        return None
    path = seq[i:later[0] + 1]
    if len(path) > steps:
        path = path[:steps - 2] + ["…", end]
    return path, 1


def reference(facts: Sequence[Fact], start=None, end=None, steps=5, per="session", exclude=(), group=(),
              keep_repeats=False, top=20, min_weight=1, edge_limit=50, since=None, until=None) -> dict:
    units = cleaned(facts, per, exclude, group, keep_repeats, since, until)
    paths: Counter = Counter()
    edges: Counter = Counter()
    for seq in units.values():
        got = cut(seq, steps, start, end)
        if got is None:
            continue
        path, first = got
        paths[tuple(path)] += 1
        for k in range(len(path) - 1):
            edges[(first + k, path[k], first + k + 1, path[k + 1])] += 1
    ranked = sorted(paths.items(), key=lambda p: (-p[1], list(p[0])))[:top]
    kept = sorted(((e, n) for e, n in edges.items() if n >= min_weight),
                  key=lambda e: (-e[1], e[0][0], e[0][1], e[0][3]))[:edge_limit]
    return {"units": sum(paths.values()),
            "paths": [{"items": list(p), "units": n} for p, n in ranked],
            "edges": [{"from_position": a, "from": f, "to_position": b, "to": t, "units": n}
                      for (a, f, b, t), n in kept]}
