"""`journeyctl funnel` against the contract (journey-analysis.md, "Funnels").

A small, independent Python reading of the contract (`reference`) is compared with the DuckDB
query's result over generated events built to hit the edges: ties on timestamp, steps exactly at
the window's edge, repeats of a step's event, NULL names, several attempts per unit, sessions,
and days, weeks and months turning (2024-03-31 is a Sunday and a month's last day). Then one
compact case per rule.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeyctl import api
from journeyctl.analysis.common import MICROSECONDS
from journeyctl.errors import ConfigError

BASE = datetime(2024, 3, 31, 22, 0)  # a Sunday, the last of a month: days, weeks and months turn
TICK = timedelta(minutes=20)


@dataclass(frozen=True)
class Event:
    visitor: str
    session: str
    ts: datetime
    id: str
    name: str | None


# --- the contract, read independently -------------------------------------------------------

def _micros(a: datetime, b: datetime) -> int:
    return (b - a) // timedelta(microseconds=1)


def reference(events, steps, per="visitor", order="ordered", window=None, exclude=(), since=None,
              until=None, interval=None) -> dict:
    """The funnel as the contract words it, one unit and one attempt at a time."""
    steps = [s.split("|") for s in steps]
    k = len(steps)
    if window is None and per == "visitor":
        window = "14d"
    w = None if window is None else int(window[:-1]) * MICROSECONDS[window[-1]]
    exclusions = []
    for x in exclude:
        name, _, rng = x.partition("@")
        a, b = (int(v) for v in rng.split("-")) if rng else (1, k)
        exclusions.append((name, a, b))

    def within(e1, e):
        return w is None or _micros(e1.ts, e.ts) <= w

    def in_range(e):
        return (since is None or e.ts >= since) and (until is None or e.ts < until)

    units = {}
    for e in events:
        if e.name is not None:
            units.setdefault(e.visitor if per == "visitor" else e.session, []).append(e)
    attempts = []  # (unit, e1, [step events in order])
    for unit, seq in units.items():
        seq.sort(key=lambda e: (e.ts, e.id))
        for i, e1 in enumerate(seq):
            if not in_range(e1):
                continue
            if order == "any":
                if not any(e1.name in s for s in steps):
                    continue
                firsts = [next((e for e in seq[i:] if e.name in s and within(e1, e)), None) for s in steps]
                chosen = sorted((e for e in firsts if e is not None), key=lambda e: (e.ts, e.id))
                attempts.append((unit, e1, chosen))
                continue
            if e1.name not in steps[0]:
                continue
            positions = [i]
            for s in steps[1:]:
                last = positions[-1]
                if order == "ordered":
                    q = next((q for q in range(last + 1, len(seq)) if seq[q].name in s and within(e1, seq[q])), None)
                else:
                    q = last + 1 if last + 1 < len(seq) and seq[last + 1].name in s and within(e1, seq[last + 1]) else None
                if q is None:
                    break
                positions.append(q)
            dropped = False
            for name, a, b in exclusions:
                if len(positions) < a:
                    continue
                pa = positions[a - 1]
                if len(positions) >= b:
                    dropped |= any(seq[q].name == name for q in range(pa + 1, positions[b - 1]))
                else:
                    dropped |= any(seq[q].name == name and (w is None or within(e1, seq[q]))
                                   for q in range(pa + 1, len(seq)))
            if not dropped:
                attempts.append((unit, e1, [seq[q] for q in positions]))

    def best(of):
        results = {}
        for unit, e1, chosen in of:
            key = (-len(chosen), e1.ts, e1.id)
            if unit not in results or key < results[unit][0]:
                results[unit] = (key, e1, chosen)
        return results

    results = best(attempts)
    rows = []
    for j in range(1, k + 1):
        reached = [(e1, chosen) for _, e1, chosen in results.values() if len(chosen) >= j]
        prev = [_micros(c[j - 2].ts, c[j - 1].ts) / 1e6 for _, c in reached] if j > 1 else []
        first = [_micros(e1.ts, c[j - 1].ts) / 1e6 for e1, c in reached] if j > 1 else []
        units_j = len(reached)
        units_1 = sum(1 for _ in results)
        rows.append({"step": j, "units": units_j,
                     "conversion_from_first": units_j / units_1 if units_1 else None,
                     "conversion_from_previous": 1.0 if j == 1 else (
                         units_j / rows[-1]["units"] if rows[-1]["units"] else None),
                     "median_seconds_from_previous": statistics.median(prev) if prev else None,
                     "avg_seconds_from_previous": statistics.fmean(prev) if prev else None,
                     "median_seconds_from_first": statistics.median(first) if first else None,
                     "avg_seconds_from_first": statistics.fmean(first) if first else None})
    out = {"steps": rows, "time_to_convert": {"units": rows[-1]["units"],
                                              "median_seconds": rows[-1]["median_seconds_from_first"],
                                              "avg_seconds": rows[-1]["avg_seconds_from_first"]}}
    if interval:
        def period(ts):
            day = ts.date()
            if interval == "week":
                return day - timedelta(days=day.weekday())
            return day.replace(day=1) if interval == "month" else day
        periods = {}
        for a in attempts:
            periods.setdefault(period(a[1].ts), []).append(a)
        out["trend"] = []
        for p in sorted(periods):
            chosen = best(periods[p])
            converted = sum(1 for _, _, c in chosen.values() if len(c) == k)
            out["trend"].append({"period": p.isoformat(), "entered": len(chosen), "converted": converted,
                                 "conversion": converted / len(chosen)})
    return out


# --- running the query on DuckDB ------------------------------------------------------------

FACTS = [("dbt_visitor_id", "VARCHAR"), ("session_id", "VARCHAR"), ("timestamp", "TIMESTAMP"),
         ("event_id", "VARCHAR"), ("event", "VARCHAR")]


class Facts:
    """A DuckDB file with a published dbt_track_facts (the columns funnels read) and its config."""

    def __init__(self, folder: Path):
        self.path = folder / "facts.duckdb"
        self.config = folder / "journeyctl.toml"
        self.config.write_text(f'[targets.local]\ntype = "duckdb"\npath = "{self.path}"\n')

    def load(self, events) -> None:
        with duckdb.connect(str(self.path)) as c:
            c.execute("CREATE SCHEMA IF NOT EXISTS journey")
            c.execute("CREATE OR REPLACE TABLE journey.dbt_track_facts ("
                      + ", ".join(f"{n} {t}" for n, t in FACTS) + ")")
            if events:
                c.executemany("INSERT INTO journey.dbt_track_facts VALUES (?, ?, ?, ?, ?)",
                              [(e.visitor, e.session, e.ts, e.id, e.name) for e in events])

    def funnel(self, steps, **options) -> dict:
        return api.funnel(steps, config=self.config, **options)


@pytest.fixture
def facts(tmp_path) -> Facts:
    return Facts(tmp_path)


def assert_same(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for part in got:
        g, w = got[part], want[part]
        if isinstance(g, dict):
            g, w = [g], [w]
        assert len(g) == len(w), (part, g, w)
        for row_g, row_w in zip(g, w):
            assert row_g.keys() == row_w.keys()
            for key in row_g:
                a, b = row_g[key], row_w[key]
                if isinstance(b, float) and a is not None:
                    assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6), (part, key, row_g, row_w)
                else:
                    assert a == b, (part, key, row_g, row_w)


# --- generated events ------------------------------------------------------------------------

NAMES = ["A", "B", "C", "X"]


@st.composite
def event_sets(draw):
    events = []
    ids = draw(st.permutations(range(60)))  # event_id order unrelated to insertion: ties break by it
    for v in range(draw(st.integers(1, 6))):  # enough units that medians interpolate
        for n in range(draw(st.integers(0, 9))):
            tick = draw(st.integers(0, 12))
            events.append(Event(f"v{v}", f"v{v}s{draw(st.integers(0, 1))}", BASE + tick * TICK,
                                f"e{ids[len(events)]:02d}", draw(st.sampled_from([*NAMES, None]))))
    return events


@st.composite
def funnels(draw):
    order = draw(st.sampled_from(["ordered", "strict", "any"]))
    k = draw(st.integers(2, 4))
    if order == "any":
        pool = draw(st.permutations(NAMES))
        steps = list(pool[:k])
        if draw(st.booleans()) and k < 4:  # one step of two names
            steps[-1] = f"{steps[-1]}|{pool[k]}"
    else:
        steps = [draw(st.sampled_from(["A", "B", "C", "A|B", "B|C"])) for _ in range(k)]
    options = {"order": order, "per": draw(st.sampled_from(["visitor", "session"])),
               "window": draw(st.sampled_from([None, "20m", "40m", "1h", "2400s"]))}
    if order == "ordered" and draw(st.booleans()):
        options["exclude"] = tuple(
            draw(st.sampled_from(["X", "C", f"X@1-{k}", "B@1-2", f"X@{k - 1}-{k}"]))
            for _ in range(draw(st.integers(1, 2))))
    if draw(st.booleans()):
        options["since"] = BASE + draw(st.integers(0, 6)) * TICK
    if draw(st.booleans()):
        options["until"] = BASE + draw(st.integers(7, 13)) * TICK
    options["interval"] = draw(st.sampled_from([None, "day", "week", "month"]))
    return steps, options


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(events=event_sets(), funnel=funnels())
def test_the_query_is_the_contract(facts, events, funnel):
    steps, options = funnel
    facts.load(events)
    assert_same(facts.funnel(steps, **options), reference(events, steps, **options))


# --- one rule at a time ----------------------------------------------------------------------

def at(minutes: float) -> datetime:
    return BASE + timedelta(minutes=minutes)


def ev(visitor, minutes, event_id, name, session=None) -> Event:
    return Event(visitor, session or f"{visitor}s", at(minutes), event_id, name)


def units(result) -> list[int]:
    return [s["units"] for s in result["steps"]]


def test_ties_on_timestamp_break_by_event_id(facts):
    facts.load([ev("v", 0, "e2", "A"), ev("v", 0, "e1", "B")])  # B comes first: e1 < e2
    assert units(facts.funnel(["A", "B"])) == [1, 0]
    assert units(facts.funnel(["B", "A"])) == [1, 1]


def test_a_step_exactly_at_the_windows_edge_counts(facts):
    facts.load([ev("v", 0, "e1", "A"), ev("v", 30, "e2", "B"), ev("w", 0, "e3", "A"), ev("w", 30.001, "e4", "B")])
    assert units(facts.funnel(["A", "B"], window="30m")) == [2, 1]


def test_null_names_take_no_part(facts):
    facts.load([ev("v", 0, "e1", "A"), ev("v", 1, "e2", None), ev("v", 2, "e3", "B")])
    assert units(facts.funnel(["A", "B"], order="strict")) == [1, 1]


def test_a_step_sharing_the_entry_steps_name_is_a_later_event(facts):
    facts.load([ev("v", 0, "e1", "A"), ev("w", 0, "e2", "A"), ev("w", 5, "e3", "A")])
    result = facts.funnel(["A", "A|B"])
    assert units(result) == [2, 1] and result["steps"][1]["median_seconds_from_previous"] == 300.0


def test_strict_needs_the_very_next_event(facts):
    facts.load([ev("v", 0, "e1", "A"), ev("v", 1, "e2", "C"), ev("v", 2, "e3", "B")])
    assert units(facts.funnel(["A", "B"], order="strict")) == [1, 0]
    assert units(facts.funnel(["A", "B"], order="ordered")) == [1, 1]


def test_any_order_counts_distinct_steps_at_or_after_the_entry(facts):
    facts.load([ev("v", 0, "e1", "B"), ev("v", 1, "e2", "A"), ev("v", 3, "e3", "C")])
    result = facts.funnel(["A", "B", "C"], order="any")
    assert units(result) == [1, 1, 1]
    assert [s["median_seconds_from_previous"] for s in result["steps"]] == [None, 60.0, 120.0]


def test_the_best_attempt_is_the_furthest_then_the_earliest(facts):
    # attempts at 0 and 10 both reach step 2; the earliest one's durations count
    facts.load([ev("v", 0, "e1", "A"), ev("v", 10, "e2", "A"), ev("v", 12, "e3", "B")])
    result = facts.funnel(["A", "B"])
    assert result["time_to_convert"] == {"units": 1, "median_seconds": 720.0, "avg_seconds": 720.0}


def test_a_later_attempt_that_gets_further_wins(facts):
    facts.load([ev("v", 0, "e1", "A"), ev("v", 30, "e2", "A"), ev("v", 40, "e3", "B")])
    result = facts.funnel(["A", "B"], window="15m")
    assert result["time_to_convert"]["median_seconds"] == 600.0


def test_the_median_is_interpolated(facts):
    facts.load([ev("v", 0, "e1", "A"), ev("v", 1, "e2", "B"), ev("w", 0, "e3", "A"), ev("w", 2, "e4", "B"),
                ev("x", 0, "e5", "A"), ev("x", 4, "e6", "B"), ev("y", 0, "e7", "A"), ev("y", 10, "e8", "B")])
    step = facts.funnel(["A", "B"])["steps"][1]
    assert (step["median_seconds_from_previous"], step["avg_seconds_from_previous"]) == (180.0, 255.0)


def test_exclusions_drop_the_attempt_not_the_unit(facts):
    # the first attempt has X between A and B; the second is clean
    facts.load([ev("v", 0, "e1", "A"), ev("v", 1, "e2", "X"), ev("v", 2, "e3", "A"), ev("v", 3, "e4", "B")])
    assert facts.funnel(["A", "B"], exclude=["X"])["time_to_convert"]["median_seconds"] == 60.0
    facts.load([ev("v", 0, "e1", "A"), ev("v", 1, "e2", "X")])  # never reaches B: X within the window
    assert units(facts.funnel(["A", "B"], exclude=["X"])) == [0, 0]
    assert units(facts.funnel(["A", "B"], exclude=["X"], window="30s")) == [1, 0]


def test_an_exclusion_between_later_steps(facts):
    facts.load([ev("v", 0, "e1", "A"), ev("v", 1, "e2", "X"), ev("v", 2, "e3", "B"), ev("v", 3, "e4", "C")])
    assert units(facts.funnel(["A", "B", "C"], exclude=["X@2-3"])) == [1, 1, 1]
    assert units(facts.funnel(["A", "B", "C"], exclude=["X@1-2"])) == [0, 0, 0]


def test_per_session_has_no_window_by_default(facts):
    facts.load([ev("v", 0, "e1", "A"), ev("v", 60 * 24 * 30, "e2", "B", session="v1"),
                ev("w", 0, "e3", "A", "w1"), ev("w", 60 * 24 * 30, "e4", "B", "w1")])
    assert units(facts.funnel(["A", "B"], per="session")) == [2, 1]
    assert units(facts.funnel(["A", "B"])) == [2, 0]  # 14 days per visitor


def test_the_date_range_filters_entries_only(facts):
    facts.load([ev("v", 0, "e1", "A"), ev("v", 120, "e2", "B")])
    assert units(facts.funnel(["A", "B"], since=at(0), until=at(60))) == [1, 1]
    assert units(facts.funnel(["A", "B"], since=at(1))) == [0, 0]


def test_weeks_begin_on_monday(facts):
    facts.load([ev("v", 0, "e1", "A"), ev("w", 180, "e2", "A")])  # Sunday 22:00, Monday 01:00
    trend = facts.funnel(["A", "B"], interval="week")["trend"]
    assert [p["period"] for p in trend] == ["2024-03-25", "2024-04-01"]


def test_every_step_has_a_row_even_with_no_units(facts):
    facts.load([ev("v", 0, "e1", "Z")])
    result = facts.funnel(["A", "B", "C"], report=lambda _: None)
    assert units(result) == [0, 0, 0]
    assert [s["conversion_from_previous"] for s in result["steps"]] == [1.0, None, None]


def test_names_reach_sql_as_literals(facts):
    odd = ["it's", "100%_done", "back\\slash", "naïve ☕", 'say "hi"']
    facts.load([ev("v", i, f"e{i}", name) for i, name in enumerate(odd)])
    assert units(facts.funnel(odd)) == [1] * 5


def test_a_name_that_never_occurs_is_a_note_with_the_closest(facts):
    facts.load([ev("v", 0, "e1", "Product Viewed")])
    notes = []
    facts.funnel(["Product Viewed", "Product Vewed"], report=notes.append)
    assert notes == ["note: event 'Product Vewed' never occurs in dbt_track_facts; closest: 'Product Viewed'"]


def test_no_journey_tables_is_a_config_error(tmp_path):
    (tmp_path / "journeyctl.toml").write_text(f'[targets.local]\ntype = "duckdb"\npath = "{tmp_path}/j.duckdb"\n')
    with pytest.raises(ConfigError, match="no journey tables") as raised:
        api.funnel(["A", "B"], config=tmp_path / "journeyctl.toml")
    assert "journeyctl run" in raised.value.hint


def test_the_api_takes_one_exclusion_as_a_string(facts):
    facts.load([ev("v", 0, "e1", "A"), ev("v", 1, "e2", "Product Removed"), ev("v", 2, "e3", "B")])
    assert units(facts.funnel(["A", "B"], exclude="Product Removed")) == [0, 0]
