"""Neutral stage templates → one dialect's SQL, through sqlglot's AST.

Jinja fills in parameters and marks table references; sqlglot parses the result,
the markers become validated identifiers, the dialect's rewrites are applied, every
identifier is normalised and quoted for the dialect, and generation refuses (rather
than drops) anything the dialect cannot express.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, UnsupportedError

from journeyctl.dialects import Dialect, drop_table
from journeyctl.errors import RenderError
from journeyctl.layout import DEFAULT_LAYOUT, VIEW, create_view, drop, table_name
from journeyctl.names import SchemaName, TableName
from journeyctl.stages import (REF_MARKER, SOURCE_MARKER, RenderedTemplate, dependency_order,
                               reachable, render_template, render_templates, select_stages,
                               templates_digest)

TableFor = Callable[[str], TableName | exp.Table]  # stage name → the table it is built in
SOURCE_COLUMNS = ("id", "anonymous_id", "user_id", "event")
"""The source columns the templates read besides the event time (and received_at, when present)."""


@dataclass(frozen=True)
class PipelineParams:
    """What a pipeline is built from; the only inputs a template sees."""

    source: TableName
    schema: SchemaName
    idle_timeout_minutes: float = 30
    journey_length: int = 5
    has_received_at: bool = True
    timestamp_column: str = "timestamp"
    """The source column holding the event time; the pipeline reads it as `timestamp`."""
    incremental: bool = False
    """Also build what incremental runs keep between runs (the counted events and the state)."""
    lookback_hours: float = 6
    identity: str = "latest_user"
    """How ids become visitors: "latest_user" (the default rule) or "graph" (components)."""
    placeholder_ids: tuple[str, ...] = ()
    max_users_per_visitor: int = 50
    layout: str = DEFAULT_LAYOUT
    """"views" (one physical event table, three views of it) or "tables" (journeyctl/layout.py)."""

    def settings(self) -> str:
        """Everything that shapes the tables' rows, as text: incremental state remembers it, and a
        change of any of it needs a full rebuild."""
        from journeyctl import __version__  # the templates' own text is in the fingerprint too
        return (f"source={self.source}; idle_timeout_minutes={self.idle_timeout_minutes}; "
                f"journey_length={self.journey_length}; timestamp_column={self.timestamp_column}; "
                f"identity={self.identity_settings()}; layout={self.layout}; "
                f"journeyctl={__version__}; templates={templates_digest()}")

    def identity_settings(self) -> str:
        if self.identity != "graph":
            return self.identity
        placeholders = hashlib.sha256("\0".join(sorted(self.placeholder_ids)).encode()).hexdigest()[:8]
        return f"graph(max_users_per_visitor={self.max_users_per_visitor},placeholders={placeholders})"

    def fingerprint(self) -> str:
        return hashlib.sha256(self.settings().encode()).hexdigest()[:16]

    def template_params(self) -> dict:
        return {
            "idle_timeout_minutes": self.idle_timeout_minutes,
            "journey_length": self.journey_length,
            "has_received_at": self.has_received_at,
            "incremental": self.incremental,
            "identity": self.identity,
            "layout": self.layout,
            "lookback_microseconds": round(self.lookback_hours * 3_600_000_000),
            "fingerprint": self.fingerprint(),
            "settings": self.settings(),
            "run_id": "",  # a run's own id, for the state it writes (render_plan's run_vars)
            "lookback_whole_hours": math.ceil(self.lookback_hours) + 1,
            "state_has_mark": False,  # incremental: the state read holds a high-water mark
            "rows_from": "",  # incremental: the stage giving each visitor's replaced time and what precedes it
        }

    def table_for(self, stage: str) -> TableName:
        return self.schema.table(table_name(stage, self.layout))

    def source_relation(self, table: exp.Table | None = None) -> exp.Expression:
        """What the templates' source() reads: the source `table` (by default, params.source) or,
        with another timestamp_column, a derived table of the columns they read, that one as
        `timestamp`."""
        table = table if table is not None else self.source.to_table()
        if self.timestamp_column == "timestamp":
            return table
        columns = [*SOURCE_COLUMNS, *(["received_at"] if self.has_received_at else [])]
        return (exp.select(*columns, exp.alias_(exp.column(self.timestamp_column), "timestamp"))
                .from_(table).subquery(self.source.name))


@dataclass(frozen=True)
class Step:
    """One stage rendered for one dialect: the statements that build its table."""

    stage: str
    description: str
    inputs: list[str]
    published: bool
    template: Path
    table: TableName
    """The table the statements build (a staging name during a run)."""
    published_table: TableName
    statements: list[str]
    takes_over: str | None = None
    """The working stage whose table this one is made from by dropping columns, if any."""
    procedure: str | None = None
    """Performed by the runner after the statements, which build `input_table` for it."""
    input_table: TableName | None = None
    after: tuple[str, ...] = ()
    """The plan's stages that must finish before this one starts (what it reads; a takeover's
    other readers)."""
    view_query: exp.Expression | None = None
    """A view's query over the published tables: it is created at publish, not built in staging
    (its `statements` are for a script)."""


@dataclass(frozen=True)
class Plan:
    dialect: Dialect
    params: PipelineParams
    setup: list[str]
    steps: list[Step]
    cleanup: list[str]
    """Drops the working (unpublished) tables once the published ones are built."""

    def script(self) -> str:
        """A self-contained script: schema first, then each stage in order."""
        self.refuse_procedures()
        p = self.params
        parts = [
            f"-- journeyctl pipeline for {self.dialect.name}: source {p.source}, schema {p.schema}, "
            f"idle timeout {p.idle_timeout_minutes} min, journey length {p.journey_length}\n",
            *(f"-- setup\n{s};\n" for s in self.setup),
        ]
        for step in self.steps:
            parts.append(f"\n-- stage: {step.stage}\n")
            parts.extend(f"{s};\n" for s in step.statements)
        if self.cleanup:
            parts.append("\n-- cleanup: working tables\n")
            parts.extend(f"{s};\n" for s in self.cleanup)
        return "".join(parts)

    def refuse_procedures(self) -> None:
        """A script holds SQL only: a stage the runner computes by a loop cannot be printed."""
        for step in self.steps:
            if step.procedure:
                raise RenderError(
                    f"stage {step.stage} ({step.template.name}) is computed by journeyctl's runner "
                    f"({step.procedure}: a loop of statements until the identity graph settles), so it "
                    f"has no {self.dialect.name} script",
                    hint="use `journeyctl run` (or the Python API) for identity = \"graph\", or render "
                         "with identity = \"latest_user\"")

    def as_json(self) -> list[dict]:
        self.refuse_procedures()
        return [
            {"stage": "setup", "inputs": [], "sql": [*self.setup]},
            *(
                {"stage": s.stage, "inputs": s.inputs, "table": str(s.table),
                 "published": s.published, "takes_over": s.takes_over,
                 "description": s.description, "sql": s.statements}
                for s in self.steps
            ),
            *([{"stage": "cleanup", "inputs": [], "sql": [*self.cleanup]}] if self.cleanup else []),
        ]


def generate(tree: exp.Expression, dialect: Dialect, where: str) -> str:
    """Apply the dialect's rewrites, normalise and quote identifiers, then generate, refusing any loss."""
    tree = dialect.rewrite(tree)
    engine = sqlglot.Dialect.get_or_raise(dialect.name)
    for ident in tree.find_all(exp.Identifier):
        engine.normalize_identifier(ident)  # as the engine resolves it unquoted (Snowflake: upper)
        ident.set("quoted", True)
    try:
        return tree.sql(dialect=dialect.name, pretty=True, unsupported_level=ErrorLevel.RAISE, copy=False)
    except UnsupportedError as e:
        raise RenderError(f"{where}: {dialect.name} cannot express this: {e}",
                          hint="rewrite the template with constructs every dialect supports")


def parse_template(t: RenderedTemplate) -> exp.Expression:
    try:
        return sqlglot.parse_one(t.sql)
    except ParseError as e:
        first = e.errors[0] if e.errors else {}
        raise RenderError(
            f"{t.path}: the rendered SQL does not parse (rendered line {first.get('line', '?')}, "
            f"column {first.get('col', '?')}): {first.get('description', e)}",
            hint="run `journeyctl render --dialect duckdb --select "
                 f"{t.name}` to see the SQL, and fix the template")


def as_table(table: TableName | exp.Expression) -> exp.Expression:
    """A table name as its AST (a relation already given as AST, such as a derived table, as is)."""
    return table.to_table() if isinstance(table, TableName) else table.copy()


def resolve_tables(tree: exp.Expression, source: exp.Expression, table_for: TableFor) -> exp.Expression:
    """Replace the ref()/source() markers with the tables (or the source relation) they stand for."""
    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and not node.args.get("db"):
            name = node.name
            target = None
            if name == SOURCE_MARKER:
                target = source.copy()
            elif name.startswith(REF_MARKER):
                target = as_table(table_for(name[len(REF_MARKER):]))
            if target is not None:
                if node.alias:
                    target.set("alias", node.args["alias"])
                return target
        return node
    return tree.transform(swap, copy=False)


def refuse_unknown_functions(tree: exp.Expression, where: str) -> None:
    """sqlglot copies functions it does not model verbatim into every dialect: refuse them."""
    for node in tree.find_all(exp.Anonymous):
        raise RenderError(f"{where}: function {node.name}() is not known to sqlglot and would be "
                          "copied untranslated into every dialect",
                          hint="use a function sqlglot models (see its expression list)")


def compile_tree(tree: exp.Expression, where: str, dialect: Dialect, source: exp.Expression,
                 table_for: TableFor) -> exp.Expression:
    """A parsed template with tables resolved and unknown functions refused (the dialect's
    rewrites come at generation, to every statement)."""
    tree = resolve_tables(tree, source, table_for)
    refuse_unknown_functions(tree, where)
    return tree


def compile_with_tables(t: RenderedTemplate, dialect: Dialect,
                        tables: Mapping[str, TableName | exp.Expression]) -> exp.Expression:
    """A template whose ref()s (and source(), as "source") name given tables, not stages:
    for the SQL a library function runs on its own working tables."""
    unknown = [r for r in [*t.refs, *(["source"] if t.reads_source else [])] if r not in tables]
    if unknown:
        raise RenderError(f"{t.path}: reads {unknown[0]!r}, which is none of the tables it is "
                          f"given ({', '.join(sorted(tables))})")
    return compile_tree(parse_template(t), f"{t.path.name}, dialect {dialect.name}", dialect,
                        as_table(tables["source"]) if "source" in tables else None, tables.__getitem__)


def compile_query(t: RenderedTemplate, dialect: Dialect, source: exp.Expression,
                  table_for: TableFor) -> exp.Expression:
    return compile_tree(parse_template(t), f"{t.path.name}, dialect {dialect.name}", dialect, source,
                        table_for)


@dataclass(frozen=True)
class Takeover:
    """A published stage that is a plain column projection of a working table, and its last
    reader: it is built by dropping the other columns from that table and renaming it (a
    catalog change on DuckDB, Snowflake and BigQuery) instead of copying every row."""

    working: str
    drop: tuple[str, ...]
    after: tuple[str, ...]
    """The working table's other readers, which must run first."""

    def statements(self, working: exp.Table, table: exp.Table) -> list[exp.Expression]:
        drops = [exp.Alter(this=working.copy(), kind="TABLE",
                           actions=[exp.Drop(tables=[exp.column(c)], kind="COLUMN")]) for c in self.drop]
        # DROP first: a printed script may be run again over its own published table.
        return [*drops, drop_table(table.copy()),
                exp.Alter(this=working.copy(), kind="TABLE", actions=[exp.AlterRename(this=table)])]


def column_projection(tree: exp.Expression, renames: bool = False) -> tuple[str, list[str]] | None:
    """(stage, columns) when `tree` is exactly `SELECT a, b, … FROM ref(stage)` (with `renames`,
    `b AS c` too: what a view may be)."""
    used = {k for k, v in tree.args.items() if v}
    if not isinstance(tree, exp.Select) or used != {"expressions", "from_"}:
        return None
    table = tree.args["from_"].this
    if not isinstance(table, exp.Table) or table.args.get("db") or not table.name.startswith(REF_MARKER):
        return None

    def plain(c: exp.Expression) -> bool:
        return isinstance(c, exp.Column) and not c.table
    if not all(plain(c) or renames and isinstance(c, exp.Alias) and plain(c.this) for c in tree.expressions):
        return None
    return table.name[len(REF_MARKER):], [c.name for c in tree.expressions]


def find_takeovers(templates: dict[str, RenderedTemplate],
                   trees: dict[str, exp.Expression]) -> dict[str, Takeover]:
    """For each working table, the widest published projection of it that can take it over."""
    best: dict[str, tuple[str, Takeover]] = {}
    for name in sorted(templates):
        projection = column_projection(trees[name])
        if not templates[name].published or projection is None:
            continue
        working, columns = projection
        available = trees[working].named_selects
        remaining = iter(available)
        if (templates[working].published or len(set(available)) != len(available) or "*" in available
                or not all(c in remaining for c in columns)):  # columns must keep the table's order
            continue
        readers = tuple(r for r in sorted(templates) if working in templates[r].refs and r != name)
        if any(name in reachable(r, lambda n: (x for x in templates[n].refs if x in templates))
               for r in readers):
            continue  # another reader needs this stage first: it cannot also come last
        takeover = Takeover(working, tuple(c for c in available if c not in columns), readers)
        if working not in best or len(takeover.drop) < len(best[working][1].drop):
            best[working] = (name, takeover)
    return {name: takeover for name, takeover in best.values()}


def render_query(relative_path: str, params: PipelineParams, dialect: Dialect, **extra) -> str:
    """A read-only query template (report, data test) over the published tables."""
    t = render_template(relative_path, params.template_params() | extra)
    tree = compile_query(t, dialect, params.source_relation(), params.table_for)
    return generate(tree, dialect, f"{relative_path}, dialect {dialect.name}")


def render_plan(params: PipelineParams, dialect: Dialect, select: tuple[str, ...] = (),
                staging_suffix: str = "", *, folder: str = "", outside: Iterable[str] = (),
                inputs: Mapping[str, TableName] | None = None,
                run_vars: Mapping[str, object] | None = None,
                staging_schema: SchemaName | None = None) -> Plan:
    """Render the chosen stages (all by default) of `folder` for `dialect`, in dependency order.

    With a `staging_suffix`, the chosen stages build (and read each other from)
    suffixed tables, in `staging_schema` (default: the output schema); other stages (and the
    `outside` names a folder's stages may ref) are read from their published tables, or from
    the table `inputs` names for them. `run_vars` are what the templates may know of this run
    (its run_id; what its state said).
    """
    templates = render_templates(params.template_params() | dict(run_vars or {}), folder, outside)
    trees = {name: parse_template(t) for name, t in templates.items()}
    takeovers = find_takeovers(templates, trees) if dialect.drop_column else {}
    ordered = dependency_order(templates.values(),
                               after={name: to.after for name, to in takeovers.items()})
    chosen = set(select_stages(ordered, select))
    inputs = inputs or {}
    staging = staging_schema or params.schema

    def table_for(stage: str) -> TableName:
        if stage in inputs:
            return inputs[stage]
        if stage in chosen:
            return staging.table(params.table_for(stage).name + staging_suffix)
        return params.table_for(stage)

    def published(stage: str) -> TableName:
        """What a view reads: the published table (by its bare name where a view's names resolve in
        its own schema: DuckDB's catalog is named after the file, which the view must not know)."""
        table = params.table_for(stage)
        return TableName((table.name,)) if dialect.views_read_own_schema else table

    def view_query(t: RenderedTemplate) -> exp.Expression | None:
        if not t.view:
            return None
        if column_projection(trees[t.name], renames=True) is None:
            raise RenderError(f"{t.path}: a view may only select (and rename) columns of one stage "
                              "(no window, join or sort at read time)")
        return compile_tree(trees[t.name], f"stage {t.name} ({t.path.name}), dialect {dialect.name}",
                            dialect, params.source_relation(), published)

    views = {t.name: view_query(t) for t in ordered if t.name in chosen}
    view_readers = {t.name: [v.name for v in ordered if views.get(v.name) is not None and t.name in v.refs]
                    for t in ordered}

    def input_table(t: RenderedTemplate) -> TableName | None:
        return staging.table(f"{t.name}__input{staging_suffix}") if t.procedure else None

    def statements(t: RenderedTemplate) -> list[str]:
        where = f"stage {t.name} ({t.path.name}), dialect {dialect.name}"
        if views[t.name] is not None:  # for a script: a run creates views at publish
            view = params.table_for(t.name)
            built = [*([] if dialect.create_or_replace else [drop(view, VIEW)]),
                     create_view(view, views[t.name], replace=dialect.create_or_replace)]
            return [generate(s, dialect, where) for s in built]
        # A script run again drops the views that hold the table it replaces (they come back after it).
        held = [drop(params.table_for(v), VIEW) for v in view_readers[t.name]
                if dialect.views_hold_tables and not staging_suffix]
        if t.name in takeovers:
            built = takeovers[t.name].statements(table_for(takeovers[t.name].working).to_table(),
                                                 table_for(t.name).to_table())
        else:
            query = compile_tree(trees[t.name], where, dialect, params.source_relation(), table_for)
            built = dialect.build_table((input_table(t) or table_for(t.name)).to_table(), query)
        return [generate(s, dialect, where) for s in [*held, *built]]

    steps = [
        Step(stage=t.name, description=t.description, inputs=t.inputs, published=t.published,
             template=t.path, table=table_for(t.name), published_table=params.table_for(t.name),
             statements=statements(t),
             takes_over=takeovers[t.name].working if t.name in takeovers else None,
             procedure=t.procedure, input_table=input_table(t), view_query=views[t.name],
             after=tuple(n for n in [*t.refs, *(takeovers[t.name].after if t.name in takeovers else ())]
                         if n in chosen))
        for t in ordered if t.name in chosen
    ]
    taken_over = {s.takes_over for s in steps}
    working = [s.table.to_table() for s in steps if not s.published and s.stage not in taken_over]
    schemas = dict.fromkeys([params.schema, staging])
    return Plan(dialect=dialect, params=params, steps=steps,
                setup=[generate(exp.Create(this=s.to_table(), kind="SCHEMA", exists=True), dialect, "setup")
                       for s in schemas],
                cleanup=[generate(drop_table(t), dialect, "cleanup")
                         for t in working])
