"""Neutral stage templates → one dialect's SQL, through sqlglot's AST.

Jinja fills in parameters and marks table references; sqlglot parses the result,
the markers become validated identifiers, the dialect's rewrites are applied, every
identifier is normalised and quoted for the dialect, and generation refuses (rather
than drops) anything the dialect cannot express.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, UnsupportedError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from journeyctl.dialects import Dialect, drop_table
from journeyctl.errors import RenderError
from journeyctl.names import SchemaName, TableName
from journeyctl.stages import (REF_MARKER, SOURCE_MARKER, RenderedTemplate, render_stages,
                               render_template, select_stages)

TableFor = Callable[[str], TableName]  # stage name → the table it is built in


@dataclass(frozen=True)
class PipelineParams:
    """What a pipeline is built from; the only inputs a template sees."""

    source: TableName
    schema: SchemaName
    idle_timeout_minutes: float = 30
    journey_length: int = 5
    has_received_at: bool = True

    def template_params(self) -> dict:
        return {
            "idle_timeout_minutes": self.idle_timeout_minutes,
            "journey_length": self.journey_length,
            "has_received_at": self.has_received_at,
        }

    def table_for(self, stage: str) -> TableName:
        return TableName((*self.schema.parts, stage))


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

    def as_json(self) -> list[dict]:
        return [
            {"stage": "setup", "inputs": [], "sql": [*self.setup]},
            *(
                {"stage": s.stage, "inputs": s.inputs, "table": str(s.table),
                 "published": s.published, "description": s.description, "sql": s.statements}
                for s in self.steps
            ),
            *([{"stage": "cleanup", "inputs": [], "sql": [*self.cleanup]}] if self.cleanup else []),
        ]


def generate(tree: exp.Expression, dialect: Dialect, where: str) -> str:
    """Normalise and quote identifiers for `dialect`, then generate, refusing any loss."""
    tree = normalize_identifiers(tree, dialect=dialect.name)
    for ident in tree.find_all(exp.Identifier):
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


def resolve_tables(tree: exp.Expression, source: TableName, table_for: TableFor) -> exp.Expression:
    """Replace the ref()/source() markers with real table names."""
    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and not node.args.get("db"):
            name = node.name
            target = None
            if name == SOURCE_MARKER:
                target = source.to_table()
            elif name.startswith(REF_MARKER):
                target = table_for(name[len(REF_MARKER):]).to_table()
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


def compile_query(t: RenderedTemplate, dialect: Dialect, source: TableName,
                  table_for: TableFor) -> exp.Expression:
    """A rendered template as the dialect's AST, tables resolved, unknown functions refused."""
    tree = resolve_tables(parse_template(t), source, table_for)
    refuse_unknown_functions(tree, f"{t.path.name}, dialect {dialect.name}")
    return dialect.rewrite(tree)


def compile_stage(t: RenderedTemplate, dialect: Dialect, source: TableName,
                  table_for: TableFor) -> list[str]:
    where = f"stage {t.name} ({t.path.name}), dialect {dialect.name}"
    query = compile_query(t, dialect, source, table_for)
    return [generate(s, dialect, where) for s in dialect.build_table(table_for(t.name).to_table(), query)]


def render_query(relative_path: str, params: PipelineParams, dialect: Dialect, **extra) -> str:
    """A read-only query template (report, data test) over the published tables."""
    t = render_template(relative_path, params.template_params() | extra)
    tree = compile_query(t, dialect, params.source, params.table_for)
    return generate(tree, dialect, f"{relative_path}, dialect {dialect.name}")


def render_plan(params: PipelineParams, dialect: Dialect, select: tuple[str, ...] = (),
                staging_suffix: str = "") -> Plan:
    """Render the chosen stages (all by default) for `dialect`, in dependency order.

    With a `staging_suffix`, the chosen stages build (and read each other from)
    suffixed tables; stages outside the selection are read from their published tables.
    """
    templates = render_stages(params.template_params())
    chosen = set(select_stages(templates, select))

    def table_for(stage: str) -> TableName:
        return params.table_for(stage + staging_suffix if stage in chosen else stage)

    create_schema = exp.Create(this=params.schema.to_table(), kind="SCHEMA", exists=True)
    steps = [
        Step(stage=t.name, description=t.description, inputs=t.inputs, published=t.published,
             template=t.path, table=table_for(t.name), published_table=params.table_for(t.name),
             statements=compile_stage(t, dialect, params.source, table_for))
        for t in templates if t.name in chosen
    ]
    working = [s.table.to_table() for s in steps if not s.published]
    return Plan(dialect=dialect, params=params, steps=steps,
                setup=[generate(create_schema, dialect, "setup")],
                cleanup=[generate(drop_table(t), dialect, "cleanup")
                         for t in working])
