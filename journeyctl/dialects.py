"""Everything that differs between the warehouses' SQL, in one table.

Templates are written once in sqlglot's neutral dialect. What sqlglot does not
translate by itself is listed here per dialect, as data: AST rewrites keyed by
expression type, and how a table is (re)built. Nothing else in journeyctl asks
which dialect it is rendering for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from sqlglot import exp

from journeyctl.errors import ConfigError, RenderError

Rewrite = Callable[[exp.Expression], exp.Expression]


def _timestamp_diff_as_datediff(node: exp.Expression) -> exp.Expression:
    """Redshift has no TIMESTAMPDIFF; DATEDIFF(microsecond, a, b) is exact there."""
    return exp.DateDiff(this=node.this, expression=node.expression, unit=node.args.get("unit"))


def _timestamp_diff_as_epoch_micros(node: exp.Expression) -> exp.Expression:
    """PostgreSQL has no TIMESTAMPDIFF, and sqlglot's DATE_DIFF for it casts timestamptz to
    timestamp (wall-clock time in the session zone: an hour off across DST). `b - a` is an
    exact interval for both timestamp types; its epoch (numeric) × 1e6 is whole microseconds."""
    unit = node.text("unit").upper()
    if unit != "MICROSECOND":
        raise RenderError(f"TIMESTAMP_DIFF(…, {unit or '?'}) has no exact PostgreSQL rendering",
                          hint="compute gaps in MICROSECOND, as the templates' minutes_between() does")
    gap = exp.Extract(this=exp.var("EPOCH"), expression=exp.paren(exp.Sub(this=node.this,
                                                                          expression=node.expression)))
    return exp.cast(exp.Mul(this=gap, expression=exp.Literal.number(1_000_000)), exp.DataType.build("BIGINT"))


TEXT_KEY = re.compile(r"(event|event_id|event_\d+|id|anonymous_id|user_id|alias|dbt_visitor_id|session_id)")
"""The text columns (the contract's ids and event names) that templates order by."""


def _text_in_byte_order(node: exp.Expression) -> exp.Expression:
    """PostgreSQL sorts text by the database's collation (en-US: '_z' < 'a' < 'B'), every other
    engine by bytes: ties on timestamp would break by id differently. COLLATE "C" is byte order.

    A query's ORDER BY may name an output column, but PostgreSQL reads a name inside an
    expression (`x COLLATE "C"`) as an input column: an alias of a column is ordered by that
    column, an alias of anything else is left as it is.
    """
    key = node.this
    scope = node.parent.parent if isinstance(node.parent, exp.Order) else None
    if not isinstance(key, exp.Column) or not isinstance(scope, (exp.Window, exp.Select)):
        return node
    if isinstance(scope, exp.Select) and not key.table:
        aliased = next((p.this for p in scope.expressions
                        if isinstance(p, exp.Alias) and p.alias == key.name), key)
        if not isinstance(aliased, exp.Column):
            return node
        key = aliased.copy()
    if TEXT_KEY.fullmatch(key.name.lower()):
        node.set("this", exp.Collate(this=key, expression=exp.to_identifier("C", quoted=True)))
    return node


def drop_table(table: exp.Table) -> exp.Drop:
    return exp.Drop(tables=[table], kind="TABLE", exists=True)


@dataclass(frozen=True)
class Dialect:
    name: str
    """sqlglot's name for it."""
    create_or_replace: bool
    """Whether `CREATE OR REPLACE TABLE … AS` exists; otherwise DROP IF EXISTS + CREATE."""
    default_source: str
    """The source table RudderStack writes, as a user would type it."""
    rewrites: dict[type[exp.Expression], Rewrite] = field(default_factory=dict)

    def rewrite(self, tree: exp.Expression) -> exp.Expression:
        """Apply the rewrites bottom-up, so that what a rewritten node keeps of its operands
        (a window inside a diff, say) has been rewritten too."""
        for node in reversed(list(tree.walk())) if self.rewrites else ():
            rule = self.rewrites.get(type(node))
            new = rule(node) if rule else node
            if new is not node:
                tree = new if node is tree else tree
                node.replace(new)
        return tree

    def build_table(self, table: exp.Table | exp.Schema,
                    query: exp.Expression | None = None) -> list[exp.Expression]:
        """Statements that (re)create `table` from `query` (or empty, given an exp.Schema)."""
        create = exp.Create(this=table, kind="TABLE", expression=query,
                            replace=self.create_or_replace)
        if self.create_or_replace:
            return [create]
        name = table.this if isinstance(table, exp.Schema) else table
        return [drop_table(name.copy()), create]


DIALECTS: dict[str, Dialect] = {
    d.name: d
    for d in (
        Dialect("duckdb", create_or_replace=True, default_source="tracks"),
        Dialect("bigquery", create_or_replace=True, default_source="tracks"),
        Dialect("snowflake", create_or_replace=True, default_source="TRACKS"),
        Dialect("redshift", create_or_replace=False, default_source="tracks",
                rewrites={exp.TimestampDiff: _timestamp_diff_as_datediff}),
        Dialect("postgres", create_or_replace=False, default_source="tracks",
                rewrites={exp.TimestampDiff: _timestamp_diff_as_epoch_micros,
                          exp.Ordered: _text_in_byte_order}),
    )
}

ALIASES = {"bq": "bigquery", "sf": "snowflake", "rs": "redshift", "pg": "postgres"}


def get_dialect(name: str) -> Dialect:
    key = ALIASES.get(name.lower(), name.lower())
    if key not in DIALECTS:
        valid = ", ".join([*DIALECTS, *(f"{a} ({d})" for a, d in ALIASES.items())])
        raise ConfigError(f"unknown dialect {name!r}; valid dialects: {valid}")
    return DIALECTS[key]
