"""Conversion funnels (journey-analysis.md, "Funnels"): a validated spec, and the one query that
answers it on any engine.

The query reads only the events of the funnel's names (strict: every named event, as "the next
event" may be any), sorts them once per unit and matches steps with window functions:
- ordered: running counts of each step's events number them, so "the first S(j) event after
  this one" is the S(j) event whose count is one more; the attempts follow that chain with one
  equi-join per step. Exclusions: a running count of E before step b against the one at step a,
  and the first E after step a (a MIN over the following rows) for attempts that never reach b.
- strict: LEAD(event, d) and LEAD(timestamp, d) of every event: step j is d = j − 1 events on.
- any: for each step, the first of its events at or after each event (a MIN over the following rows).
Then each unit's best attempt (ROW_NUMBER), its step events as rows in time order, and exact,
interpolated medians from row numbers (PERCENTILE_CONT is not portable: BigQuery's is analytic
only, ClickHouse's median approximate).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from sqlglot import exp

from journeyctl.analysis.common import (MICROSECONDS, ORDER, DateRange, duration_microseconds, facts_table,
                                        is_one_of, microseconds_between, seconds, unit_column)
from journeyctl.errors import ConfigError
from journeyctl.names import SchemaName

ORDERS = ("ordered", "strict", "any")
INTERVALS = ("day", "week", "month")
MIN_STEPS, MAX_STEPS = 2, 20
DEFAULT_WINDOW = {"visitor": "14d", "session": None}
"""Per visitor 14 days; per session none: the session's own bounds."""
SAVED_KEYS = {"steps", "per", "order", "window", "exclude", "since", "until", "interval"}
"""The keys of a saved funnel, `[funnels.NAME]` in journeyctl.toml."""
STEP_COLUMNS = ("step", "units", "conversion_from_first", "conversion_from_previous",
                "median_seconds_from_previous", "avg_seconds_from_previous",
                "median_seconds_from_first", "avg_seconds_from_first")
TREND_COLUMNS = ("period", "entered", "converted", "conversion")
_EXCLUSION_RANGE = re.compile(r"(.*)@([0-9]+)-([0-9]+)", re.DOTALL)


@dataclass(frozen=True)
class Exclusion:
    """Attempts with an `name` event after their step `after` and before their step `before`
    (or, never reaching it, within the window) are dropped."""

    name: str
    after: int
    before: int

    def __str__(self) -> str:
        return f"{self.name}@{self.after}-{self.before}"


@dataclass(frozen=True)
class Funnel:
    """A validated funnel: steps S1 … Sk (each a tuple of event names) and its options."""

    steps: tuple[tuple[str, ...], ...]
    per: str = "visitor"
    order: str = "ordered"
    window: int | None = 14 * 86_400_000_000
    """Microseconds from the entry event a step may come; None: no window."""
    exclusions: tuple[Exclusion, ...] = ()
    dates: DateRange = field(default_factory=DateRange)
    interval: str | None = None

    @classmethod
    def parse(cls, steps: Sequence[str | Sequence[str]], *, per: str | None = None,
              order: str | None = None, window: str | None = None, exclude: str | Iterable[str] = (),
              since: Any = None, until: Any = None, interval: str | None = None) -> Funnel:
        """From user input (a step is "A|B" or a list of names); ConfigError naming what is wrong."""
        for key, value in (("per", per), ("order", order), ("interval", interval)):
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"--{key} must be text, got {value!r}")
        exclude = [exclude] if isinstance(exclude, str) else exclude
        if not isinstance(exclude, (list, tuple)):
            raise ConfigError(f"--exclude takes NAME or NAME@A-B (a list of them in journeyctl.toml), got {exclude!r}")
        per = per or "visitor"
        unit_column(per)
        order = order or "ordered"
        if order not in ORDERS:
            raise ConfigError(f"--order must be one of {', '.join(ORDERS)}, got {order!r}")
        if interval is not None and interval not in INTERVALS:
            raise ConfigError(f"--interval must be one of {', '.join(INTERVALS)}, got {interval!r}")
        if isinstance(steps, str) or not MIN_STEPS <= len(steps) <= MAX_STEPS:
            n = 1 if isinstance(steps, str) else len(steps)
            raise ConfigError(f"a funnel has {MIN_STEPS} to {MAX_STEPS} steps, got {n}",
                              hint='e.g. journeyctl funnel "Product Viewed" "Order Completed"')
        parsed = tuple(_step(s, i) for i, s in enumerate(steps, 1))
        window = window if window is not None else DEFAULT_WINDOW[per]
        exclusions = tuple(_exclusion(e, len(parsed)) for e in exclude)
        if exclusions and order != "ordered":
            raise ConfigError(f"--exclude works with --order ordered only, not {order}",
                              hint="in strict order nothing comes between steps; in any order "
                                   "there is no 'between'")
        if order == "any":
            seen: dict[str, int] = {}
            for i, names in enumerate(parsed, 1):
                for name in names:
                    if name in seen and seen[name] != i:
                        raise ConfigError(f"with --order any the steps must not share event names: "
                                          f"{name!r} is in steps {seen[name]} and {i}")
                    seen[name] = i
        return cls(steps=parsed, per=per, order=order,
                   window=None if window is None else duration_microseconds(window),
                   exclusions=exclusions, dates=DateRange.parse(since, until), interval=interval)

    def describe(self) -> str:
        """The funnel's options in words, for the text output and the page."""
        window = "no window" if self.window is None else f"window {_duration_words(self.window)}"
        parts = [f"per {self.per}", self.order, window,
                 *(f"excluding {e}" for e in self.exclusions)]
        if self.dates.since or self.dates.until:
            parts.append(f"entries from {self.dates.since or 'the start'} until {self.dates.until or 'now'}")
        return ", ".join(parts)

    @property
    def names(self) -> list[str]:
        """Every event name the funnel reads, steps first."""
        return list(dict.fromkeys([*(n for s in self.steps for n in s), *(e.name for e in self.exclusions)]))

    def steps_query(self, schema: SchemaName) -> exp.Select:
        """One row per step 1..k (STEP_COLUMNS), by step; step k's from-first columns are the
        time to convert."""
        return _step_rows(self, schema)

    def trend_query(self, schema: SchemaName) -> exp.Select:
        """One row per period with an attempt (TREND_COLUMNS), by period."""
        if self.interval is None:
            raise ConfigError("a trend needs an interval: --interval day, week or month")
        return _trend_rows(self, schema)


def _duration_words(microseconds: int) -> str:
    """A window in the largest unit that divides it (14d, 90s)."""
    for unit in "dhms":
        if microseconds % MICROSECONDS[unit] == 0:
            return f"{microseconds // MICROSECONDS[unit]}{unit}"
    return f"{microseconds / 1e6}s"


def _step(step: str | Sequence[str], number: int) -> tuple[str, ...]:
    names = step.split("|") if isinstance(step, str) else list(step)
    if not names or any(not isinstance(n, str) or n == "" for n in names):
        raise ConfigError(f"step {number} ({'|'.join(map(str, names))!r}) is empty or has an empty "
                          "event name", hint='a step is an event name, or several joined by "|"')
    return tuple(dict.fromkeys(names))


def _exclusion(text: Any, steps: int) -> Exclusion:
    if not isinstance(text, str):
        raise ConfigError(f"--exclude takes NAME or NAME@A-B, got {text!r}")
    match = _EXCLUSION_RANGE.fullmatch(text)
    name, after, before = (match.group(1), int(match.group(2)), int(match.group(3))) if match \
        else (text, 1, steps)
    if name == "":
        raise ConfigError(f"--exclude {text!r} names no event")
    if not 1 <= after < before <= steps:
        raise ConfigError(f"--exclude {text!r}: the steps A-B must satisfy 1 <= A < B <= {steps} "
                          f"(this funnel has {steps} steps)")
    return Exclusion(name, after, before)


# --- SQL -----------------------------------------------------------------------------------

def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table)


def _num(value: int) -> exp.Literal:
    return exp.Literal.number(value)


def _ascending(name: str) -> exp.Ordered:
    """ORDER BY name, as written with no NULLS clause (none of these keys is NULL where it
    matters; BigQuery cannot say NULLS LAST in a window)."""
    return exp.Ordered(this=_col(name), nulls_first=True)


def _unit_order() -> list[exp.Ordered]:
    return [_ascending(c) for c in ORDER]


def _over(func: exp.Expression, frame: tuple | None = None, partition: str = "unit",
          order: list[exp.Ordered] | None = None) -> exp.Window:
    """`func` over the unit's events in the contract's order, in a ROWS frame (start, end)."""
    spec = None
    if frame:
        (start, start_side), (end, end_side) = frame
        spec = exp.WindowSpec(kind="ROWS", start=start, start_side=start_side, end=end, end_side=end_side)
    return exp.Window(this=func, partition_by=[_col(partition)] if partition else None,
                      order=exp.Order(expressions=order if order is not None else _unit_order()),
                      spec=spec)


UP_TO_HERE = (("UNBOUNDED", "PRECEDING"), ("CURRENT ROW", None))
FROM_HERE = (("CURRENT ROW", None), ("UNBOUNDED", "FOLLOWING"))
AFTER_HERE = ((_num(1), "FOLLOWING"), ("UNBOUNDED", "FOLLOWING"))


def _when(condition: exp.Expression, then: exp.Expression, otherwise: exp.Expression | None = None) -> exp.Case:
    case = exp.Case(ifs=[exp.If(this=condition, true=then)])
    return case.else_(otherwise) if otherwise is not None else case


def _count_of(names: Sequence[str], frame: tuple) -> exp.Window:
    """How many of the unit's events in `frame` are one of `names`."""
    return _over(exp.Count(this=_when(is_one_of(_col("event"), names), _num(1))), frame)


def _first_time_of(names: Sequence[str], frame: tuple) -> exp.Window:
    """The timestamp of the unit's first event in `frame` that is one of `names` (events are in
    timestamp order, so the first is the least)."""
    return _over(exp.Min(this=_when(is_one_of(_col("event"), names), _col("timestamp"))), frame)


def _within(funnel: Funnel, entry: exp.Expression, later: exp.Expression) -> exp.Expression:
    """`later` no more than the window after `entry` (exactly the window counts)."""
    if funnel.window is None:
        return exp.Not(this=exp.Is(this=later.copy(), expression=exp.Null()))
    return exp.LTE(this=microseconds_between(entry.copy(), later.copy()), expression=_num(funnel.window))


def _not_null(e: exp.Expression) -> exp.Expression:
    return exp.Not(this=exp.Is(this=e.copy(), expression=exp.Null()))


def _is_null(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=e.copy(), expression=exp.Null())


def _numbered(funnel: Funnel, schema: SchemaName, every_named: bool,
              windows: list[exp.Expression]) -> list[tuple[str, exp.Select]]:
    """CTEs `events` and `numbered`: the events the funnel reads (its names, or, `every_named`,
    all with a name) from `since` on (no step of an attempt in the range comes earlier), with
    `windows` over each unit's events in order."""
    event = _col("event")
    where = _not_null(event) if every_named else is_one_of(event, funnel.names)
    since = DateRange(since=funnel.dates.since).condition(_col("timestamp"))
    events = (exp.select(exp.alias_(_col(unit_column(funnel.per)), "unit"), *map(_col, ORDER), "event")
              .from_(facts_table(schema)).where(exp.and_(where, since) if since else where))
    return [("events", events), ("numbered", exp.select("unit", *ORDER, "event", *windows).from_("events"))]


def _entries(funnel: Funnel, names: Sequence[str]) -> exp.Expression:
    """An event that begins an attempt: one of `names`, in the date range."""
    in_range = funnel.dates.condition(_col("timestamp"))
    return exp.and_(is_one_of(_col("event"), names), in_range) if in_range else is_one_of(_col("event"), names)


def _attempts(k: int, source: str, where: exp.Expression | None = None) -> tuple[str, exp.Select]:
    """The CTE `attempts` from `source`'s step times: with `reached`, how many are not NULL."""
    reached = _sum_of([_when(_not_null(_col(f"at_{j}")), _num(1), _num(0)) for j in range(1, k + 1)])
    query = exp.select("unit", *ORDER, *(f"at_{j}" for j in range(1, k + 1)),
                       exp.alias_(reached, "reached")).from_(source)
    return "attempts", query.where(where) if where is not None else query


def _sum_of(terms: list[exp.Expression]) -> exp.Expression:
    total = terms[0]
    for term in terms[1:]:
        total = exp.Add(this=total, expression=term)
    return exp.paren(total)


def _ordered_attempts(funnel: Funnel, schema: SchemaName) -> list[tuple[str, exp.Select]]:
    """`ordered`: step j is the first S(j) event after step j − 1's, within the window."""
    k = len(funnel.steps)
    excluded = list(dict.fromkeys(e.name for e in funnel.exclusions))
    xi = {name: i for i, name in enumerate(excluded)}
    counts = [exp.alias_(_count_of(funnel.steps[j - 1], UP_TO_HERE), f"count_{j}") for j in range(2, k + 1)]
    for name, i in xi.items():  # E events up to here; the first E after here
        counts += [exp.alias_(_count_of([name], UP_TO_HERE), f"x{i}_count"),
                   exp.alias_(_first_time_of([name], AFTER_HERE), f"x{i}_next")]
    ctes = _numbered(funnel, schema, False, counts)

    def carried(j: int, row: str) -> list[exp.Expression]:
        """What step j's event passes on: the count to look up step j+1 by, and the exclusions'."""
        out = [exp.alias_(_col(f"count_{j + 1}", row), f"seen_{j + 1}")] if j < k else []
        for n, e in enumerate(funnel.exclusions):
            i = xi[e.name]
            if e.after == j:
                out += [exp.alias_(_col(f"x{i}_count", row), f"ex{n}_after"),
                        exp.alias_(_col(f"x{i}_next", row), f"ex{n}_next")]
            if e.before == j:  # E events strictly before step b's event
                is_e = _when(exp.EQ(this=_col("event", row), expression=exp.Literal.string(e.name)),
                             _num(1), _num(0))
                out.append(exp.alias_(exp.Sub(this=_col(f"x{i}_count", row), expression=is_e), f"ex{n}_before"))
        return out

    first = (exp.select("unit", *ORDER, exp.alias_(_col("timestamp"), "at_1"), *carried(1, "numbered"))
             .from_("numbered").where(_entries(funnel, funnel.steps[0])))
    ctes.append(("step_1", first))
    kept = ["unit", *ORDER, "at_1", *[a.alias for a in carried(1, "numbered") if not a.alias.startswith("seen_")]]
    for j in range(2, k + 1):
        prev, found = "p", "s"
        candidates = (exp.select("unit", *map(_col, ORDER), f"count_{j}", *(
            [f"count_{j + 1}"] if j < k else []), *[f"x{i}_count" for i in xi.values()],
            *[f"x{i}_next" for i in xi.values()], "event")
            .from_("numbered").where(is_one_of(_col("event"), funnel.steps[j - 1])))
        ctes.append((f"step_{j}_events", candidates))
        reached = exp.and_(_not_null(_col("timestamp", found)),
                           _within(funnel, _col("at_1", prev), _col("timestamp", found)))
        want = exp.Add(this=_col(f"seen_{j}", prev), expression=_num(1))
        joined = (exp.select(*[_col(c, prev) for c in kept],
                             exp.alias_(_when(reached, _col("timestamp", found)), f"at_{j}"),
                             *[exp.alias_(_when(reached.copy(), c.this), c.alias) for c in carried(j, found)])
                  .from_(exp.alias_(exp.to_table(f"step_{j - 1}"), prev, table=True))
                  .join(exp.alias_(exp.to_table(f"step_{j}_events"), found, table=True), join_type="LEFT",
                        on=exp.and_(exp.EQ(this=_col("unit", found), expression=_col("unit", prev)),
                                    exp.EQ(this=_col(f"count_{j}", found), expression=want))))
        ctes.append((f"step_{j}", joined))
        kept += [f"at_{j}", *[a.alias for a in carried(j, found) if not a.alias.startswith("seen_")]]

    conditions = []
    for n, e in enumerate(funnel.exclusions):
        at_a, at_b = _col(f"at_{e.after}"), _col(f"at_{e.before}")
        between = exp.and_(_not_null(at_b), exp.GT(this=_col(f"ex{n}_before"), expression=_col(f"ex{n}_after")))
        after = exp.and_(_is_null(at_b), _not_null(_col(f"ex{n}_next")),
                         _within(funnel, _col("at_1"), _col(f"ex{n}_next")))
        conditions.append(exp.Not(this=exp.paren(exp.and_(_not_null(at_a), exp.paren(exp.or_(between, after))))))
    ctes.append(_attempts(k, f"step_{k}", exp.and_(*conditions) if conditions else None))
    return ctes


def _strict_attempts(funnel: Funnel, schema: SchemaName) -> list[tuple[str, exp.Select]]:
    """`strict`: step j is the event j − 1 events after the entry, if every one between matched."""
    k = len(funnel.steps)
    leads = [exp.alias_(_over(exp.Lead(this=_col(c), offset=_num(d))), f"{c}_{d}")
             for d in range(1, k) for c in ("event", "timestamp")]
    at, chain = [exp.alias_(_col("timestamp"), "at_1")], []
    for j in range(2, k + 1):
        chain.append(exp.and_(is_one_of(_col(f"event_{j - 1}"), funnel.steps[j - 1]),
                              _within(funnel, _col("timestamp"), _col(f"timestamp_{j - 1}"))))
        at.append(exp.alias_(_when(exp.and_(*[c.copy() for c in chain]), _col(f"timestamp_{j - 1}")), f"at_{j}"))
    entries = exp.select("unit", *ORDER, *at).from_("numbered").where(_entries(funnel, funnel.steps[0]))
    return [*_numbered(funnel, schema, True, leads), ("entries", entries), _attempts(k, "entries")]


def _any_attempts(funnel: Funnel, schema: SchemaName) -> list[tuple[str, exp.Select]]:
    """`any`: every step's first event at or after the entry, within the window (steps by index,
    not yet in time order)."""
    k = len(funnel.steps)
    firsts = [exp.alias_(_first_time_of(names, FROM_HERE), f"first_{j}") for j, names in enumerate(funnel.steps, 1)]
    at = [exp.alias_(_when(_within(funnel, _col("timestamp"), _col(f"first_{j}")), _col(f"first_{j}"))
                     if funnel.window is not None else _col(f"first_{j}"), f"at_{j}") for j in range(1, k + 1)]
    entries = (exp.select("unit", *ORDER, *at).from_("numbered")
               .where(_entries(funnel, [n for s in funnel.steps for n in s])))
    return [*_numbered(funnel, schema, False, firsts), ("entries", entries), _attempts(k, "entries")]


ATTEMPTS = {"ordered": _ordered_attempts, "strict": _strict_attempts, "any": _any_attempts}
"""Per order: the CTEs ending in `attempts` (unit, timestamp, event_id of the entry; at_1..at_k,
the step times, NULL where not reached; reached, how many)."""


def _steps_table(k: int) -> exp.Expression:
    """Steps 1..k as rows (so that a step no unit reached still has its row)."""
    rows = [exp.select(exp.alias_(exp.cast(_num(j), "BIGINT"), "step")) for j in range(1, k + 1)]
    union = rows[0]
    for row in rows[1:]:
        union = exp.union(union, row, distinct=False)
    return union


def _with(ctes: list[tuple[str, exp.Select]], final: exp.Select) -> exp.Select:
    for name, query in ctes:
        final = final.with_(name, as_=query, copy=False)
    return final


def _double(e: exp.Expression) -> exp.Expression:
    return exp.cast(e, "DOUBLE")


def _ratio(numerator: exp.Expression, denominator: exp.Expression) -> exp.Expression:
    """numerator / denominator as a double; NULL when the denominator is 0 (or NULL)."""
    return _when(exp.GT(this=denominator.copy(), expression=_num(0)),
                 exp.Div(this=_double(numerator), expression=_double(denominator)))


def _median(value: str, rank: str) -> exp.Expression:
    """The interpolated median of `value` over the group: the mean of its middle one or two
    (ranked 1..n: rank with n <= 2 * rank <= n + 2)."""
    twice = exp.Mul(this=_num(2), expression=_col(rank))
    middle = exp.Between(this=twice, low=_col("n"), high=exp.Add(this=_col("n"), expression=_num(2)))
    return exp.Avg(this=_when(middle, _col(value)))


def _step_rows(funnel: Funnel, schema: SchemaName) -> exp.Select:
    k = len(funnel.steps)
    ctes = ATTEMPTS[funnel.order](funnel, schema)
    best = exp.Window(this=exp.RowNumber(), partition_by=[_col("unit")], order=exp.Order(expressions=[
        exp.Ordered(this=_col("reached"), desc=True, nulls_first=False), *_unit_order()]))
    ctes.append(("ranked", exp.select("*", exp.alias_(best, "pick")).from_("attempts")))
    at = exp.Case(this=_col("step", "s"), ifs=[exp.If(this=_num(j), true=_col(f"at_{j}", "r"))
                                              for j in range(1, k + 1)])
    ctes.append(("steps", _steps_table(k)))
    ctes.append(("result_events", (
        exp.select(_col("unit", "r"), exp.alias_(_col("timestamp", "r"), "entered_at"),
                   exp.alias_(_col("step", "s"), "step_index"), exp.alias_(at, "step_at"))
        .from_(exp.alias_(exp.to_table("ranked"), "r", table=True))
        .join(exp.alias_(exp.to_table("steps"), "s", table=True), join_type="CROSS")
        .where(exp.EQ(this=_col("pick", "r"), expression=_num(1))))))
    in_time = [_ascending("step_at"), _ascending("step_index")]  # "step j" is the j-th in time
    ctes.append(("positioned", (
        exp.select("entered_at", "step_at",
                   exp.alias_(_over(exp.RowNumber(), order=in_time), "step"),
                   exp.alias_(_over(exp.Lag(this=_col("step_at")), order=in_time), "previous_at"))
        .from_("result_events").where(_not_null(_col("step_at"))))))
    ctes.append(("durations", exp.select(
        "step",
        exp.alias_(seconds(microseconds_between(_col("previous_at"), _col("step_at"))), "from_previous"),
        exp.alias_(_when(exp.GT(this=_col("step"), expression=_num(1)),
                         seconds(microseconds_between(_col("entered_at"), _col("step_at")))), "from_first"))
        .from_("positioned")))
    ctes.append(("ranked_durations", exp.select(
        "step", "from_previous", "from_first",
        exp.alias_(_over(exp.RowNumber(), partition="step", order=[_ascending("from_previous")]), "rank_previous"),
        exp.alias_(_over(exp.RowNumber(), partition="step", order=[_ascending("from_first")]), "rank_first"),
        exp.alias_(exp.Window(this=exp.Count(this=exp.Star()), partition_by=[_col("step")]), "n"))
        .from_("durations")))
    ctes.append(("per_step", exp.select(
        "step", exp.alias_(exp.Count(this=exp.Star()), "units"),
        exp.alias_(_median("from_previous", "rank_previous"), "median_previous"),
        exp.alias_(exp.Avg(this=_col("from_previous")), "avg_previous"),
        exp.alias_(_median("from_first", "rank_first"), "median_first"),
        exp.alias_(exp.Avg(this=_col("from_first")), "avg_first"))
        .from_("ranked_durations").group_by("step")))
    ctes.append(("counted", exp.select(
        _col("step", "s"),
        exp.alias_(exp.cast(exp.Coalesce(this=_col("units", "p"), expressions=[_num(0)]), "BIGINT"), "units"),
        *(_col(c, "p") for c in ("median_previous", "avg_previous", "median_first", "avg_first")))
        .from_(exp.alias_(exp.to_table("steps"), "s", table=True))
        .join(exp.alias_(exp.to_table("per_step"), "p", table=True), join_type="LEFT",
              on=exp.EQ(this=_col("step", "p"), expression=_col("step", "s")))))
    by_step = [_ascending("step")]
    first_units = exp.Window(this=exp.Max(this=_col("units")))  # steps are cumulative: step 1's
    previous_units = _over(exp.Lag(this=_col("units")), partition="", order=by_step)
    final = exp.select(
        "step", "units",
        exp.alias_(_ratio(_col("units"), first_units), "conversion_from_first"),
        exp.alias_(_when(exp.EQ(this=_col("step"), expression=_num(1)), _double(_num(1)),
                         _ratio(_col("units"), previous_units)), "conversion_from_previous"),
        exp.alias_(_col("median_previous"), "median_seconds_from_previous"),
        exp.alias_(_col("avg_previous"), "avg_seconds_from_previous"),
        exp.alias_(_col("median_first"), "median_seconds_from_first"),
        exp.alias_(_col("avg_first"), "avg_seconds_from_first"),
    ).from_("counted").order_by(*by_step)
    return _with(ctes, final)


def period_of(interval: str, column: exp.Expression) -> exp.Expression:
    """The UTC day, week (from Monday: dialects.py makes every engine agree) or month of an instant."""
    return exp.cast(exp.TimestampTrunc(this=column, unit=exp.var(interval.upper())), "DATE")


def _trend_rows(funnel: Funnel, schema: SchemaName) -> exp.Select:
    """Per period: the units with an attempt entering in it, and those of them with one that
    reached the last step (a unit's best attempt there reaches it exactly when one does)."""
    k = len(funnel.steps)
    ctes = ATTEMPTS[funnel.order](funnel, schema)
    ctes.append(("periods", exp.select(
        "unit", exp.alias_(period_of(funnel.interval, _col("timestamp")), "period"),
        exp.alias_(_when(exp.EQ(this=_col("reached"), expression=_num(k)), _col("unit")), "converted_unit"))
        .from_("attempts")))
    ctes.append(("counted", exp.select(
        "period",
        exp.alias_(exp.cast(exp.Count(this=exp.Distinct(expressions=[_col("unit")])), "BIGINT"), "entered"),
        exp.alias_(exp.cast(exp.Count(this=exp.Distinct(expressions=[_col("converted_unit")])), "BIGINT"),
                   "converted"))
        .from_("periods").group_by("period")))
    final = (exp.select("period", "entered", "converted",
                        exp.alias_(_ratio(_col("converted"), _col("entered")), "conversion"))
             .from_("counted").order_by(_ascending("period")))
    return _with(ctes, final)


# --- results -------------------------------------------------------------------------------

def _number(value: Any, kind: type) -> int | float | None:
    """A value as the JSON number it is (engines return Decimal, float counts, numpy types)."""
    return None if value is None else kind(value)


def funnel_result(step_rows: Sequence[Sequence], trend_rows: Sequence[Sequence] | None = None) -> dict:
    """The query's rows as the funnel's JSON content; time_to_convert is step k's from-first."""
    kinds = (int, int, float, float, float, float, float, float)
    steps = [{c: _number(v, t) for c, v, t in zip(STEP_COLUMNS, row, kinds)} for row in step_rows]
    last = steps[-1]
    out = {"steps": steps,
           "time_to_convert": {"units": last["units"], "median_seconds": last["median_seconds_from_first"],
                               "avg_seconds": last["avg_seconds_from_first"]}}
    if trend_rows is not None:
        out["trend"] = [dict(zip(TREND_COLUMNS, (_day(period), int(entered), int(converted),
                                                 _number(conversion, float))))
                        for period, entered, converted, conversion in trend_rows]
    return out


def _day(value: Any) -> str:
    """A period as YYYY-MM-DD (engines return a date, a datetime or text)."""
    return value.isoformat()[:10] if hasattr(value, "isoformat") else str(value)[:10]


def duration_text(value: float | None) -> str:
    """Seconds as a person reads them: 42.5s, 3m 20s, 2h 05m, 3d 04h."""
    if value is None:
        return "-"
    if value < 60:
        return f"{value:.1f}s"
    whole = int(round(value))
    for size, unit, small, small_unit in ((86400, "d", 3600, "h"), (3600, "h", 60, "m"), (60, "m", 1, "s")):
        if whole >= size:
            return f"{whole // size}{unit} {whole % size // small:02d}{small_unit}"
    return f"{value:.0f}s"  # unreachable: value >= 60


def format_text(funnel: Funnel, result: dict) -> str:
    """The funnel as a terminal table, the time to convert under it, and the trend if asked."""
    from journeyctl.textout import share, table
    rows = result["steps"]
    first = rows[0]["units"]
    body = table(["step", "event", "units", "of first", "of previous", "median from previous"],
                 [[str(r["step"]), " | ".join(names), r["units"], share(r["units"], first),
                   share(r["units"], rows[i - 1]["units"]) if i else "100.0%",
                   duration_text(r["median_seconds_from_previous"]) if i else ""]
                  for i, (r, names) in enumerate(zip(rows, funnel.steps))], align="rlrrrr")
    t = result["time_to_convert"]
    lines = [f"funnel: {funnel.describe()}", body,
             f"\ntime to convert (entry to step {len(rows)}): {t['units']:,} unit(s), median "
             f"{duration_text(t['median_seconds'])}, average {duration_text(t['avg_seconds'])}"]
    if "trend" in result:
        lines += [f"\ntrend by {funnel.interval} (entry in the period):",
                  table(["period", "entered", "converted", "conversion"],
                        [[p["period"], p["entered"], p["converted"], share(p["converted"], p["entered"])]
                         for p in result["trend"]], align="lrrr")]
    return "\n".join(lines)
