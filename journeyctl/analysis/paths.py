"""Paths (journey-analysis.md, "Paths"): what units did from a start event, up to an end event,
or between the two, as ranked item sequences and the edges between consecutive items.

One query chain, built as sqlglot AST: the cleaned events (date range, exclusions, groups), repeats
collapsed, numbered per unit, cut at the anchors, pivoted to one row per unit, counted per path.
The top paths and the top edges are read from those counts; running both takes one query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from sqlglot import exp

from journeyctl.analysis.common import (DateRange, check_built, facts_table, missing_names_note,
                                        name_literal, render, unit_column)
from journeyctl.config import check_keys
from journeyctl.connectors.base import Connector
from journeyctl.dialects import Dialect
from journeyctl.errors import ConfigError
from journeyctl.names import SchemaName
from journeyctl.render import generate

KEYS = {"start", "end", "steps", "per", "exclude", "group", "keep_repeats", "top", "min_weight",
        "edge_limit", "since", "until"}
"""The options of a paths analysis, as API keywords and `[paths.NAME]` keys."""
ELLIPSIS = "…"
"""The item standing for what a start-and-end path leaves out (U+2026)."""
WILDCARD = "*"
LIKE_ESCAPE = "\\"
"""LIKE's escape character in the neutral AST (dialects.py rewrites the clause where an engine lacks it)."""


@dataclass(frozen=True)
class PathSpec:
    """A validated paths analysis: anchors, length, unit, cleaning rules and what to report."""

    start: str | None = None
    end: str | None = None
    steps: int = 5
    per: str = "session"
    exclude: tuple[str, ...] = ()
    group: tuple[tuple[str, str], ...] = ()
    """(pattern, name) rules in order: the first whose pattern matches names the item."""
    keep_repeats: bool = False
    top: int = 20
    min_weight: int = 1
    edge_limit: int = 50
    dates: DateRange = field(default_factory=DateRange)

    @property
    def anchors(self) -> list[str]:
        return [a for a in (self.start, self.end) if a is not None]


def _whole(value: Any, flag: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high and value > high):
        bound = f"from {low} to {high}" if high else f"at least {low}"
        raise ConfigError(f"{flag} must be a whole number {bound}, got {value!r}")
    return value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or value == "":
        raise ConfigError(f"{what} must be a non-empty text, got {value!r}")
    return value


def _rule(rule: Any) -> tuple[str, str]:
    """'PATTERN=NAME' (split at the last '=') or a (pattern, name) pair."""
    if isinstance(rule, str):
        if "=" not in rule:
            raise ConfigError(f"--group {rule!r} has no '=': give it as 'PATTERN=NAME'",
                              hint="e.g. --group 'Product *=Product' names every Product … event Product")
        pattern, name = rule.rsplit("=", 1)
    elif isinstance(rule, (tuple, list)) and len(rule) == 2:
        pattern, name = rule
    else:
        raise ConfigError(f"--group must be 'PATTERN=NAME', got {rule!r}")
    return _text(pattern, f"the pattern of --group {rule!r}"), _text(name, f"the name of --group {rule!r}")


def _listed(value: Any, flag: str) -> list:
    """A repeatable option: one text, or a list of them."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{flag} must be a list, got {value!r}")
    return list(value)


def path_spec(options: Mapping[str, Any], where: str = "the paths options") -> PathSpec:
    """The options (None: the default) as a PathSpec; ConfigError naming the first bad one."""
    check_keys(options, KEYS, where)
    o = {k: v for k, v in options.items() if v is not None}
    default = PathSpec()
    start = _text(o["start"], "--start") if "start" in o else None
    end = _text(o["end"], "--end") if "end" in o else None
    steps = _whole(o.get("steps", default.steps), "--steps", 2, 20)
    if start is not None and end is not None and steps < 3:
        raise ConfigError(f"--steps must be at least 3 with both --start and --end, got {steps}",
                          hint="a path from start to end longer than --steps keeps its first "
                               "steps − 2 items, then …, then the end")
    keep = o.get("keep_repeats", False)
    if not isinstance(keep, bool):
        raise ConfigError(f"--keep-repeats must be true or false, got {keep!r}")
    per = o.get("per", default.per)
    unit_column(per)
    return PathSpec(
        start=start, end=end, steps=steps, per=per, keep_repeats=keep,
        exclude=tuple(_text(p, "an --exclude pattern") for p in _listed(o.get("exclude"), "--exclude")),
        group=tuple(_rule(r) for r in _listed(o.get("group"), "--group")),
        top=_whole(o.get("top", default.top), "--top", 1),
        min_weight=_whole(o.get("min_weight", default.min_weight), "--min-weight", 1),
        edge_limit=_whole(o.get("edge_limit", default.edge_limit), "--edge-limit", 1),
        dates=DateRange.parse(o.get("since"), o.get("until")),
    )


# --- the query ---------------------------------------------------------------------

def matches(column: exp.Expression, pattern: str) -> exp.Expression:
    """The whole of `column` matches `pattern`: `*` any run of characters, everything else itself.

    Without `*`, equality; else LIKE with `%` and `_` (and the escape) escaped, `*` as `%`.
    """
    if WILDCARD not in pattern:
        return exp.EQ(this=column.copy(), expression=name_literal(pattern))
    like = "".join("%" if c == WILDCARD else LIKE_ESCAPE + c if c in "%_" + LIKE_ESCAPE else c
                   for c in pattern)
    return exp.Escape(this=exp.Like(this=column.copy(), expression=name_literal(like)),
                      expression=exp.Literal.string(LIKE_ESCAPE))


def _c(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table)


def _n(value: int) -> exp.Literal:
    return exp.Literal.number(value)


def _over(function: exp.Expression, ordered: bool = True) -> exp.Window:
    """`function` over the unit's events, in the contract's order (or unordered)."""
    order = exp.Order(expressions=[exp.Ordered(this=_c("timestamp")), exp.Ordered(this=_c("event_id"))])
    return exp.Window(this=function, partition_by=[_c("unit_id")], order=order if ordered else None)


def _case(condition: exp.Expression, then: exp.Expression, default: exp.Expression | None = None) -> exp.Case:
    return exp.Case(ifs=[exp.If(this=condition, true=then)], default=default)


def _first(condition: exp.Expression) -> exp.Window:
    """The unit's first `seq` where `condition` holds (NULL if never)."""
    return _over(exp.Min(this=_case(condition, _c("seq"))), ordered=False)


def _item_columns(spec: PathSpec) -> list[str]:
    return [f"item_{k}" for k in range(1, spec.steps + 1)]


def _cleaned(spec: PathSpec, schema: SchemaName) -> exp.Select:
    """Cleaning steps 1-3: events in the date range, not excluded, each as its item."""
    event = _c("event")
    item: exp.Expression = event
    if spec.group:
        item = exp.Case(ifs=[exp.If(this=matches(event, p), true=name_literal(n)) for p, n in spec.group],
                        default=event.copy())
    conditions = [exp.Not(this=exp.Is(this=event.copy(), expression=exp.Null()))]
    if spec.dates.condition(_c("timestamp")) is not None:
        conditions.append(spec.dates.condition(_c("timestamp")))
    if spec.exclude:
        conditions.append(exp.Not(this=exp.paren(exp.or_(*(matches(event, p) for p in spec.exclude)))))
    return (exp.select(exp.alias_(_c(unit_column(spec.per)), "unit_id"), _c("timestamp"), _c("event_id"),
                       exp.alias_(item, "item"))
            .from_(facts_table(schema)).where(exp.and_(*conditions)))


def _chain(spec: PathSpec, schema: SchemaName) -> list[tuple[str, exp.Select]]:
    """The CTEs down to `path_counts` (one row per distinct path, with its units)."""
    n = spec.steps
    ctes = [("cleaned", _cleaned(spec, schema))]
    bigint = exp.DataType.build("BIGINT")  # signed, for differences (ClickHouse's ROW_NUMBER is not)
    is_item = lambda name: exp.EQ(this=_c("item"), expression=name_literal(name))  # noqa: E731
    both = spec.start is not None and spec.end is not None

    def numbering(window: exp.Window) -> list[exp.Expression]:
        """seq; with both anchors also the starts up to each item, in the same pass (one sort)."""
        if both:  # NULLS FIRST (keys are never NULL), BigQuery's only order for a framed window
            for key in window.find_all(exp.Ordered):
                key.set("nulls_first", True)
        columns = [exp.alias_(exp.cast(window, bigint), "seq")]
        if both:
            starts = window.copy()
            starts.set("this", exp.Sum(this=_case(is_item(spec.start), _n(1), _n(0))))
            starts.set("spec", exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING",
                                              end="CURRENT ROW"))
            columns.append(exp.alias_(starts, "starts_seen"))
        return columns

    if spec.keep_repeats:
        ctes.append(("numbered", exp.select(_c("unit_id"), _c("item"), *numbering(_over(exp.RowNumber())))
                     .from_("cleaned")))
    else:  # cleaning step 4: an item equal to the unit's previous item is removed; the kept items
        # are then numbered in the order of the events' numbers (sorting integers is cheaper)
        ctes.append(("collapsing", exp.select(_c("unit_id"), _c("item"),
                                              exp.alias_(_over(exp.RowNumber()), "event_seq"),
                                              exp.alias_(_over(exp.Lag(this=_c("item"))), "previous_item"))
                     .from_("cleaned")))
        by_event_seq = exp.Window(this=exp.RowNumber(), partition_by=[_c("unit_id")],
                                  order=exp.Order(expressions=[exp.Ordered(this=_c("event_seq"))]))
        ctes.append(("numbered", exp.select(_c("unit_id"), _c("item"), *numbering(by_event_seq))
                     .from_("collapsing").where(exp.or_(
                         exp.Is(this=_c("previous_item"), expression=exp.Null()),
                         exp.NEQ(this=_c("item"), expression=_c("previous_item"))))))
    seq, first_seq, end_seq = _c("seq"), _c("start_seq"), _c("end_seq")
    rows = ["unit_id", "item", "seq"]
    if both:
        # from the first start through the first end after it (an end counts once a start is seen;
        # when both are one item, from the second on); longer than N: N−2 items, …, the end
        after_start = exp.GTE(this=_c("starts_seen"), expression=_n(2 if spec.start == spec.end else 1))
        ctes.append(("ended", exp.select(*rows, exp.alias_(_first(is_item(spec.start)), "start_seq"),
                                         exp.alias_(_first(exp.and_(is_item(spec.end), after_start)), "end_seq"))
                     .from_("numbered")))
        offset = exp.Sub(this=seq.copy(), expression=first_seq.copy())
        too_long = exp.GTE(this=exp.Sub(this=end_seq.copy(), expression=first_seq.copy()), expression=_n(n))
        is_end = exp.EQ(this=seq.copy(), expression=end_seq.copy())
        kept = exp.select(
            "unit_id",
            exp.alias_(_case(exp.and_(is_end, too_long), _n(n), exp.Add(this=offset, expression=_n(1))), "idx"),
            exp.alias_(_case(exp.and_(too_long.copy(), exp.EQ(this=offset.copy(), expression=_n(n - 2))),
                             name_literal(ELLIPSIS), _c("item")), "item"),
        ).from_("ended").where(exp.and_(
            exp.GTE(this=seq.copy(), expression=first_seq.copy()),
            exp.LTE(this=seq.copy(), expression=end_seq.copy()),
            exp.paren(exp.or_(exp.LT(this=offset.copy(), expression=_n(n - 1)), is_end.copy()))))
    elif spec.start is not None:  # from the first start, N items at most
        ctes.append(("started", exp.select(*rows, exp.alias_(_first(is_item(spec.start)), "start_seq"))
                     .from_("numbered")))
        offset = exp.Sub(this=seq.copy(), expression=first_seq.copy())
        kept = exp.select("unit_id", exp.alias_(exp.Add(this=offset, expression=_n(1)), "idx"), "item") \
            .from_("started").where(exp.and_(exp.GTE(this=seq.copy(), expression=first_seq.copy()),
                                             exp.LT(this=offset.copy(), expression=_n(n))))
    elif spec.end is not None:  # up to the first end, N items at most, the end last
        ctes.append(("ended", exp.select(*rows, exp.alias_(_first(is_item(spec.end)), "end_seq"))
                     .from_("numbered")))
        short = exp.LT(this=end_seq.copy(), expression=_n(n))
        idx = _case(short, seq.copy(), exp.Add(this=exp.Sub(this=seq.copy(), expression=end_seq.copy()),
                                                expression=_n(n)))
        kept = exp.select("unit_id", exp.alias_(idx, "idx"), "item").from_("ended").where(exp.and_(
            exp.LTE(this=seq.copy(), expression=end_seq.copy()),
            exp.GT(this=exp.Add(this=seq.copy(), expression=_n(n)), expression=end_seq.copy())))
    else:  # the unit's first N items
        kept = exp.select("unit_id", exp.alias_(seq.copy(), "idx"), "item").from_("numbered") \
            .where(exp.LTE(this=seq.copy(), expression=_n(n)))
    ctes.append(("kept", kept))
    items = _item_columns(spec)
    length = [exp.alias_(exp.Max(this=_c("idx")), "path_length")] if _counted_back(spec) else []
    ctes.append(("unit_paths", exp.select(
        "unit_id", *(exp.alias_(exp.Max(this=_case(exp.EQ(this=_c("idx"), expression=_n(k)), _c("item"))), column)
                     for k, column in enumerate(items, 1)), *length).from_("kept").group_by("unit_id")))
    grouped = [*items, *(["path_length"] if length else [])]
    ctes.append(("path_counts", exp.select(*grouped, exp.alias_(exp.Count(this=exp.Star()), "units"))
                 .from_("unit_paths").group_by(*grouped)))
    return ctes


def _counted_back(spec: PathSpec) -> bool:
    """With `end` alone, positions count back from the end (0, −1, …)."""
    return spec.end is not None and spec.start is None


def _ranked(spec: PathSpec) -> list[tuple[str, exp.Select]]:
    """The paths and the edges, each numbered in the contract's order."""
    items = _item_columns(spec)
    path_order = [exp.Ordered(this=_c("units"), desc=True),
                  *(exp.Ordered(this=_c(c), nulls_first=True) for c in items)]
    ranked_paths = exp.select(*items, "units",
                              exp.alias_(exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=path_order)),
                                         "path_rank"),
                              exp.alias_(exp.Window(this=exp.Sum(this=_c("units"))), "total_units")
                              ).from_("path_counts")
    # one row per (path, k): the edge from its item k to item k+1
    steps = exp.select(exp.alias_(_n(1), "k"))
    for k in range(2, spec.steps):
        steps = exp.union(steps, exp.select(exp.alias_(_n(k), "k")), distinct=False)

    def item_at(shift: int) -> exp.Case:
        return exp.Case(this=_c("k"), ifs=[exp.If(this=_n(k), true=_c(f"item_{k + shift}"))
                                           for k in range(1, spec.steps)])

    def position(shift: int) -> exp.Expression:
        at = exp.Add(this=_c("k"), expression=_n(shift)) if shift else _c("k")
        if _counted_back(spec):
            at = exp.Sub(this=at, expression=_c("path_length"))
        return exp.cast(at, exp.DataType.build("BIGINT"))

    path_edges = (exp.select(exp.alias_(position(0), "from_position"), exp.alias_(item_at(0), "from_item"),
                             exp.alias_(position(1), "to_position"), exp.alias_(item_at(1), "to_item"), "units")
                  .from_("path_counts").join(exp.Subquery(this=steps, alias=exp.TableAlias(
                      this=exp.to_identifier("edge_steps"))), join_type="CROSS"))
    edge_keys = ["from_position", "from_item", "to_position", "to_item"]
    edge_counts = (exp.select(*edge_keys, exp.alias_(exp.Sum(this=_c("units")), "units")).from_("path_edges")
                   .where(exp.Not(this=exp.Is(this=_c("to_item"), expression=exp.Null()))).group_by(*edge_keys))
    edge_order = [exp.Ordered(this=_c("units"), desc=True), exp.Ordered(this=_c("from_position")),
                  exp.Ordered(this=_c("from_item")), exp.Ordered(this=_c("to_item"))]
    ranked_edges = (exp.select(*edge_keys, "units", exp.alias_(
        exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=edge_order)), "edge_rank"))
                    .from_("edge_counts").where(exp.GTE(this=_c("units"), expression=_n(spec.min_weight))))
    return [("ranked_paths", ranked_paths), ("path_edges", path_edges), ("edge_counts", edge_counts),
            ("ranked_edges", ranked_edges)]


def _with(query: exp.Select, ctes: Sequence[tuple[str, exp.Select]]) -> exp.Select:
    for name, body in ctes:
        query = query.with_(name, as_=body)
    return query


def _top(ranked: str, rank: str, limit: int) -> exp.Select:
    return exp.select("*").from_(ranked).where(exp.LTE(this=_c(rank), expression=_n(limit)))


def paths_query(spec: PathSpec, schema: SchemaName) -> exp.Select:
    """`item_1, …, item_N, units`: the top paths in the contract's order (NULL past a path's end)."""
    ranked = _ranked(spec)[:1]
    query = exp.select(*_item_columns(spec), "units").from_("ranked_paths") \
        .where(exp.LTE(this=_c("path_rank"), expression=_n(spec.top))).order_by("path_rank")
    return _with(query, [*_chain(spec, schema), *ranked])


def edges_query(spec: PathSpec, schema: SchemaName) -> exp.Select:
    """`from_position, from_item, to_position, to_item, units`: the top edges in the contract's order."""
    query = exp.select("from_position", "from_item", "to_position", "to_item", "units").from_("ranked_edges") \
        .where(exp.LTE(this=_c("edge_rank"), expression=_n(spec.edge_limit))).order_by("edge_rank")
    return _with(query, [*_chain(spec, schema), *_ranked(spec)[1:]])


def combined_query(spec: PathSpec, schema: SchemaName) -> exp.Select:
    """The top paths (with the total units) beside the top edges, joined on rank: one pass for both."""
    items = _item_columns(spec)
    query = (exp.select(*(_c(c, "p") for c in ["path_rank", *items, "units", "total_units"]),
                        *(_c(c, "e") for c in ["edge_rank", "from_position", "from_item", "to_position",
                                                "to_item"]),
                        exp.alias_(_c("units", "e"), "edge_units"))
             .from_(exp.Subquery(this=_top("ranked_paths", "path_rank", spec.top),
                                 alias=exp.TableAlias(this=exp.to_identifier("p"))))
             .join(exp.Subquery(this=_top("ranked_edges", "edge_rank", spec.edge_limit),
                                alias=exp.TableAlias(this=exp.to_identifier("e"))),
                   on=exp.EQ(this=_c("path_rank", "p"), expression=_c("edge_rank", "e")), join_type="FULL"))
    return _with(query, [*_chain(spec, schema), *_ranked(spec)])


def items_query(spec: PathSpec, schema: SchemaName) -> exp.Select:
    """Every item after cleaning, for saying which anchor never occurs and what is closest."""
    return exp.select(_c("item")).distinct().from_("cleaned").with_("cleaned", as_=_cleaned(spec, schema))


# --- running -------------------------------------------------------------------------

@dataclass
class PathsResult:
    """The paths' numbers, as the contract reports them."""

    units: int
    paths: list[tuple[list[str], int]]
    edges: list[tuple[int, str, int, str, int]]
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"units": self.units,
                "paths": [{"items": items, "units": n} for items, n in self.paths],
                "edges": [{"from_position": a, "from": f, "to_position": b, "to": t, "units": n}
                          for a, f, b, t, n in self.edges]}


def run_paths(connector: Connector, schema: SchemaName, spec: PathSpec) -> PathsResult:
    """Run the paths on an open connector (one query); notes for anchors that never occur."""
    check_built(connector, schema)
    rows = connector.query(render(combined_query(spec, schema), connector.dialect, "paths"))
    n = spec.steps
    paths = sorted((int(r[0]), [i for i in r[1:n + 1] if i is not None], int(r[n + 1]))
                   for r in rows if r[0] is not None)
    edges = sorted((int(r[n + 3]), int(r[n + 4]), r[n + 5], int(r[n + 6]), r[n + 7], int(r[n + 8]))
                   for r in rows if r[n + 3] is not None)
    total = next((int(r[n + 2]) for r in rows if r[n + 2] is not None), 0)
    result = PathsResult(total, [(items, units) for _, items, units in paths], [e[1:] for e in edges])
    if total == 0 and spec.anchors:
        known = sorted(str(i) for (i,) in connector.query(generate(items_query(spec, schema),
                                                                    connector.dialect, "path items")))
        result.notes = missing_names_note(spec.anchors, known, what="anchor", where="the cleaned events")
    return result


def render_paths_sql(spec: PathSpec, schema: SchemaName, dialect: Dialect, edges: bool = False) -> str:
    """The paths query (or the edges query) as `dialect` SQL: one statement."""
    if edges:
        return render(edges_query(spec, schema), dialect, "path edges")
    return render(paths_query(spec, schema), dialect, "paths")


def describe(spec: PathSpec) -> str:
    """The analysis in a few words, for a page's heading."""
    anchors = " ".join([*([f"from {spec.start!r}"] if spec.start else []), *([f"to {spec.end!r}"] if spec.end else [])])
    return f"{anchors or 'from the start'}, {spec.steps} items per {spec.per}"


# --- text ---------------------------------------------------------------------------

def format_text(result: Mapping[str, Any], per: str) -> str:
    """The top paths as readable lines (with their share of the units that have a path), then the
    top edges; `result` as run_paths' as_json()."""
    if not result["paths"]:
        return f"no {per} has a path"
    lines = [" → ".join(p["items"]) for p in result["paths"]]
    width = max(len(line) for line in lines)
    out = [f"{result['units']:,} {per}s have a path; the top {len(lines)}:"]
    out += [f"{line:<{width}}  {p['units']:,} ({p['units'] / result['units']:.1%})"
            for line, p in zip(lines, result["paths"])]
    out += ["", f"the top {len(result['edges'])} edges (position: item → position: item):"]
    out += [f"{e['from_position']}: {e['from']} → {e['to_position']}: {e['to']}  {e['units']:,}"
            for e in result["edges"]]
    return "\n".join(out)
