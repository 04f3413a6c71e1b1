"""The two layouts of the published tables, and what a publish does to move between them.

`views` (the default): the journey events are written once, to one physical table
(`dbt_journey_events`, the working `journey_events` stage published), and the three event-level
tables (dbt_mapped_tracks, dbt_track_facts, dbt_tracks_flow) are views selecting its columns.
`tables`: each of the five is a table of its own, for tools that need physical tables.

Views bind by name on most engines, by object on PostgreSQL and Redshift (they follow a renamed
table, and hold a dropped one): a publish that replaces the physical table drops the views first
and creates them again, in the same transaction where DDL is transactional. A publish also moves
the schema from one layout to the other: whatever stands under a published name is dropped by
its own kind (DROP TABLE on a view fails), so a publish knows what the schema holds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from sqlglot import exp

from journeyctl.errors import ConfigError
from journeyctl.names import SchemaName, TableName
from journeyctl.stages import render_templates

if TYPE_CHECKING:
    from journeyctl.connectors.base import Connector
    from journeyctl.render import PipelineParams, Plan

LAYOUTS = ("views", "tables")
DEFAULT_LAYOUT = "views"
EVENTS_STAGE = "journey_events"
EVENTS_TABLE = "dbt_journey_events"
"""The views layout's one physical event table: the journey_events stage, published."""
VIEW, TABLE = "VIEW", "TABLE"


def layout(value: Any, where: str = "layout") -> str:
    if value not in LAYOUTS:
        raise ConfigError(f"{where} must be one of {', '.join(map(repr, LAYOUTS))}, got {value!r}",
                          hint='"views" writes each event once (the default); "tables" makes the three '
                               "event-level tables physical, for tools that need tables")
    return value


def table_name(stage: str, chosen: str) -> str:
    """The published name of `stage` in layout `chosen`."""
    return EVENTS_TABLE if stage == EVENTS_STAGE and chosen == "views" else stage


@dataclass(frozen=True)
class Publication:
    """What a publish puts in place: tables (from their staging tables) and views (from their
    queries), given what the output schema holds now (`existing`: lower-case name → VIEW or TABLE)."""

    tables: Sequence[tuple[TableName, TableName]]
    """(staging, published) pairs, in publish order."""
    views: Sequence[tuple[TableName, exp.Expression]]
    """(published view, its query)."""
    existing: Mapping[str, str] = field(default_factory=dict)
    retired: Sequence[TableName] = ()
    """Published relations of the other layout that this publish removes."""

    def kind(self, table: TableName) -> str | None:
        return self.existing.get(table.name.lower())

    def drops_before_tables(self, transactional: bool) -> list[exp.Drop]:
        """Views standing where tables go; in one transaction also every view (PostgreSQL's would
        hold the table they read; they are created again after it), the tables where views go, and
        the retired relations."""
        out = [drop(final, VIEW) for _, final in self.tables if self.kind(final) == VIEW]
        if transactional:
            out += [drop(t, kind) for t in [*(v for v, _ in self.views), *self.retired]
                    if (kind := self.kind(t))]
        return out

    def drops_after_tables(self, transactional: bool) -> list[exp.Drop]:
        """Without a transaction: the retired relations, once the tables and views are in place."""
        return [] if transactional else [drop(t, TABLE) for t in self.retired if self.kind(t)]

    def view_statements(self, transactional: bool) -> list[exp.Expression]:
        """Each view created (in a transaction, after the drops) or replaced in place."""
        out: list[exp.Expression] = []
        for view, query in self.views:
            if not transactional and self.kind(view) == TABLE:
                out.append(drop(view, TABLE))
            out.append(create_view(view, query, replace=not transactional))
        return out


def drop(table: TableName, kind: str) -> exp.Drop:
    return exp.Drop(tables=[table.to_table()], kind=kind, exists=True)


def create_view(view: TableName, query: exp.Expression, replace: bool) -> exp.Create:
    return exp.Create(this=view.to_table(), kind="VIEW", expression=query.copy(), replace=replace)


def publication(plan: Plan, existing: Mapping[str, str] | None, last: str | None = None) -> Publication:
    """The plan's published steps as a Publication (stage `last` last). `existing` None: the
    schema is taken to hold this layout already (a dry run that does not connect)."""
    steps = sorted((s for s in plan.steps if s.published), key=lambda s: s.stage == last)
    tables = [(s.table, s.published_table) for s in steps if s.view_query is None]
    views = [(s.published_table, s.view_query) for s in steps if s.view_query is not None]
    if existing is None:
        existing = {t.name.lower(): TABLE for _, t in tables} | {v.name.lower(): VIEW for v, _ in views}
    # Back to tables: the event table goes once no view of it is left (a --select may move fewer).
    left = {n for n in event_views(plan.params) if existing.get(n) == VIEW} - {t.name for _, t in tables}
    retired = ([plan.params.schema.table(EVENTS_TABLE)]
               if plan.params.layout == "tables" and existing.get(EVENTS_TABLE) and not left else [])
    return Publication(tables, views, existing, retired)


def journey_tables(params: PipelineParams) -> list[str]:
    """The journey tables, named alike in both layouts (tables, or some of them views): what the
    commands that read the built tables need, whichever layout built them."""
    tables = dataclasses.replace(params, layout="tables")
    return [t.name for t in render_templates(tables.template_params()).values() if t.published]


def event_views(params: PipelineParams) -> set[str]:
    """The stages the views layout publishes as views of the event table."""
    views = dataclasses.replace(params, layout="views")
    return {t.name for t in render_templates(views.template_params()).values() if t.view}


def relations(connector: Connector, schema: SchemaName) -> dict[str, str]:
    """What the output schema holds: lower-case name → VIEW or TABLE."""
    views = {name.lower() for name in connector.views_in_schema(schema)}
    return {t.name.lower(): VIEW if t.name.lower() in views else TABLE
            for t in connector.tables_in_schema(schema)}
