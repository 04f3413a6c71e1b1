"""Identity graph stitching: dbt_aliases_mapping for `identity = "graph"`.

Ids are nodes, each counted event carrying two ids links them, and every id maps to
the visitor of its connected component (journey-semantics.md, "Identity: graph mode").
Recursive CTEs cannot compute components portably (Snowflake and Redshift recurse with
UNION ALL only), so this loops set-based statements from Python: large-star then
small-star (Kiveris et al., 2014; O(log² n) rounds) until the links form one star per
component, on integer node numbers. Every statement is a template under
sql_templates/identity/, rendered for the connector's dialect.
"""

from __future__ import annotations

import string
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Callable, Iterable, Iterator, Mapping

from sqlglot import exp

from journeyctl.connectors.base import Connector
from journeyctl.dialects import drop_table
from journeyctl.errors import ExecutionError, RenderError
from journeyctl.names import TableName
from journeyctl.render import compile_tree, compile_with_tables, parse_template
from journeyctl.stages import render_template

PLACEHOLDER_IDS = ("", "null", "none", "undefined", "unknown", "nan", "0",
                   "00000000-0000-0000-0000-000000000000")
DEFAULT_MAX_USERS_PER_VISITOR = 50
MAX_ROUNDS = 100
"""Far above what the bound needs: 10 shuffled chains of 100k ids settle in ~15 rounds."""
EVENT_COLUMNS = ("id", "anonymous_id", "user_id", "timestamp", "event")
DEFAULT_RULE = "dbt_aliases_mapping.sql"
TEMPLATES = "identity/"
WORK_MARK = "__jc_graph_"
STAGE = "dbt_aliases_mapping (identity graph)"
Report = Callable[[str], None]
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


@dataclass(frozen=True)
class IdentityStats:
    """What a graph run found, for the run summary and `journeyctl report`."""

    rounds: int
    components: int
    largest_component: int
    """Ids in the largest component."""
    fallback_components: int
    """Components with more than max_users_per_visitor user ids, mapped by the default rule."""
    fallback_ids: int
    placeholder_ids: int
    """Distinct ids that are placeholders: they join nothing."""

    def as_json(self) -> dict:
        return asdict(self)


def placeholder_key(value: str) -> str:
    """An id as the placeholder test compares it: spaces trimmed, ASCII letters lower-cased."""
    return value.strip(" ").translate(_ASCII_LOWER)


class _Work:
    """Runs the identity templates on one connector; creates and finally drops the working tables."""

    def __init__(self, connector: Connector, out: TableName, params: dict):
        self.connector, self.out, self.params = connector, out, params
        self.created: list[TableName] = []

    def table(self, role: str) -> TableName:
        return TableName((*self.out.parts[:-1], f"{self.out.name}{WORK_MARK}{role}"))

    def compile(self, template: str, tables: Mapping[str, TableName],
                folder: str = TEMPLATES) -> exp.Expression:
        """sql_templates/<folder>/<template>.sql with its ref()s naming `tables`."""
        t = render_template(f"{folder}{template}.sql", self.params)
        return compile_with_tables(t, self.connector.dialect, tables)

    def build(self, table: TableName, query: exp.Expression) -> None:
        if table not in self.created and table != self.out:
            self.created.append(table)
        for statement in self.connector.dialect.build_table(table.to_table(), query):
            self.run(self.connector.execute, self.connector.render(statement))

    def query(self, template: str, tables: Mapping[str, TableName]) -> list[tuple]:
        return self.run(self.connector.query, self.connector.render(self.compile(template, tables)))

    def run(self, call, sql: str):
        try:
            return call(sql)
        except ExecutionError:
            raise
        except Exception as e:  # the warehouse client's own error, whatever its class
            raise self.connector.execution_error(e, sql, STAGE) from e

    @contextmanager
    def dropping(self) -> Iterator[_Work]:
        """Drop every working table when the block ends; after a failure quietly (its error is
        the one to report)."""
        try:
            yield self
        except BaseException:
            for table in self.created:
                try:
                    self.connector.execute(self.connector.render(drop_table(table.to_table())))
                except Exception:
                    pass
            raise
        for table in self.created:
            self.run(self.connector.execute, self.connector.render(drop_table(table.to_table())))


@dataclass(frozen=True)
class Graph:
    """The working tables of one graph computation, by the names the templates ref()."""

    work: _Work
    tables: dict[str, TableName]
    rounds: int


def _params(placeholder_ids: Iterable[str], max_users_per_visitor: int) -> dict:
    keys = sorted({*PLACEHOLDER_IDS, *(placeholder_key(p) for p in placeholder_ids)})
    return {"placeholder_literals": ", ".join(exp.Literal.string(k).sql() for k in keys),
            "max_users_per_visitor": int(max_users_per_visitor)}


@contextmanager
def graph_components(connector: Connector, events: TableName, out: TableName, *,
                     placeholder_ids: Iterable[str] = (),
                     max_users_per_visitor: int = DEFAULT_MAX_USERS_PER_VISITOR,
                     max_rounds: int = MAX_ROUNDS, report: Report = lambda _: None) -> Iterator[Graph]:
    """The id graph of `events` in working tables named after `out` (ids, components,
    visitors), dropped when the block ends, however it ends."""
    with _Work(connector, out, _params(placeholder_ids, max_users_per_visitor)).dropping() as work:
        tables = {"events": events, "ids": work.table("ids")}
        work.build(tables["ids"], work.compile("ids", tables))
        links, stepped = work.table("links"), work.table("links_stepped")
        work.build(links, work.compile("links", tables))
        rounds = 0
        while unsettled := int(work.query("unsettled", {"links": links})[0][0]):
            if rounds == max_rounds:
                raise ExecutionError(
                    f"identity graph on {connector.describe()}: the components did not settle in "
                    f"{max_rounds} rounds ({unsettled:,} links still unsettled); nothing was written "
                    f"to {out}",
                    hint="large-star/small-star needs O(log² n) rounds, so this points at an engine "
                         "returning unstable results; run with identity = \"latest_user\" meanwhile")
            work.build(stepped, work.compile("large_star", {"links": links}))
            work.build(links, work.compile("small_star", {"links": stepped}))
            rounds += 1
            report(f"identity graph: round {rounds} ({unsettled:,} links were unsettled)")
        tables |= {"links": links, "components": work.table("components"), "visitors": work.table("visitors")}
        work.build(tables["components"], work.compile("components", tables))
        work.build(tables["visitors"], work.compile("visitors", tables))
        yield Graph(work, tables, rounds)


@contextmanager
def counted_events(connector: Connector, source: TableName | exp.Expression, has_received_at: bool,
                   out: TableName) -> Iterator[TableName]:
    """The events the contract counts (rules 1-2) from `source`, by the stage templates, in a
    working table named after `out` and dropped when the block ends: for checks that run after
    the pipeline's own working tables are gone."""
    with _Work(connector, out, {"has_received_at": has_received_at}).dropping() as work:
        tables = {"source": source, "chosen_copies": work.table("chosen_copies")}
        work.build(tables["chosen_copies"], work.compile("chosen_copies", tables, folder=""))
        events = work.table("events")
        work.build(events, work.compile("counted_events", tables))
        yield events


def latest_user_query(events: TableName, connector: Connector) -> exp.Expression:
    """The default rule exactly as the dbt_aliases_mapping stage computes it, over `events`
    (already counted) instead of the source: the stage template with its `events` CTE swapped."""
    t = render_template(DEFAULT_RULE, {"identity": "latest_user"})
    tree = parse_template(t)
    cte = next((c for c in tree.find_all(exp.CTE) if c.alias == "events"), None)
    if cte is None:
        raise RenderError(f"{t.path}: no `events` CTE, which the identity graph's fallback swaps "
                          "for its counted events", hint="keep the CTE or adapt journeyctl/identity.py")
    cte.set("this", exp.select(*EVENT_COLUMNS).from_(events.to_table()))

    def no_stage(name: str) -> TableName:
        raise RenderError(f"{t.path}: reads {name!r} outside its `events` CTE")
    return compile_tree(tree, f"{t.path.name} (identity fallback), dialect {connector.dialect.name}",
                        connector.dialect, events, no_stage)


def build_graph_aliases(connector: Connector, events: TableName, out: TableName, *,
                        placeholder_ids: Iterable[str] = (),
                        max_users_per_visitor: int = DEFAULT_MAX_USERS_PER_VISITOR,
                        max_rounds: int = MAX_ROUNDS,
                        report: Report = lambda _: None) -> IdentityStats:
    """(Re)create `out` (alias, dbt_visitor_id) from the counted events in `events` (id,
    anonymous_id, user_id, timestamp, event) by the graph rule; `out` is written only once
    the components have settled. Raises ExecutionError (exit 4) if they do not."""
    with graph_components(connector, events, out, placeholder_ids=placeholder_ids,
                          max_users_per_visitor=max_users_per_visitor, max_rounds=max_rounds,
                          report=report) as graph:
        work, tables = graph.work, graph.tables | {"latest_user": graph.work.table("latest_user")}
        work.build(tables["latest_user"], latest_user_query(events, connector))
        stats = work.query("stats", tables)[0]
        work.build(out, work.compile("aliases", tables))
    result = IdentityStats(graph.rounds, *(int(v) for v in stats))
    report(f"identity graph: {result.components:,} components (largest {result.largest_component:,} "
           f"ids) in {result.rounds} rounds; {result.fallback_components:,} components "
           f"({result.fallback_ids:,} ids) fell back; {result.placeholder_ids:,} placeholder ids")
    return result


def graph_aliases_step(connector: Connector, events: TableName, out: TableName, params,
                       report: Report = lambda _: None) -> IdentityStats:
    """The runner's `identity_graph` procedure: `out` from the counted events a stage selected
    into `events` (dropped afterwards), with the pipeline's graph settings."""
    stats = build_graph_aliases(connector, events, out, placeholder_ids=params.placeholder_ids,
                                max_users_per_visitor=params.max_users_per_visitor, report=report)
    connector.execute(connector.render(drop_table(events.to_table())))
    return stats
