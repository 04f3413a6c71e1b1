"""Everything that differs between the warehouses' SQL, in one table.

Templates are written once in sqlglot's neutral dialect. What sqlglot does not
translate by itself is listed here per dialect, as data: AST rewrites keyed by
expression type, and how a table is (re)built. Nothing else in journeyctl asks
which dialect it is rendering for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from sqlglot import exp

from journeyctl.errors import ConfigError, RenderError

Rewrite = Callable[[exp.Expression], exp.Expression]


def _timestamp_diff_as_datediff(node: exp.Expression) -> exp.Expression:
    """Redshift has no TIMESTAMPDIFF; DATEDIFF(microsecond, a, b) is exact there."""
    return exp.DateDiff(this=node.this, expression=node.expression, unit=node.args.get("unit"))


def _timestamp_diff_as_unix_micros(node: exp.Expression) -> exp.Expression:
    """Spark's TIMESTAMPDIFF counts wall-clock time in the session zone (20 minutes across a
    DST jump read 80); the difference of the instants' microseconds since the epoch does not."""
    unit = node.text("unit").upper()
    if unit != "MICROSECOND":
        raise RenderError(f"spark: TIMESTAMP_DIFF by {unit or 'an unnamed unit'} is not exact; "
                          "only MICROSECOND is rewritten",
                          hint="diff in MICROSECOND and divide, as the minutes_between macro does")
    return exp.Sub(this=exp.UnixMicros(this=node.this), expression=exp.UnixMicros(this=node.expression))


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
    drop_column: bool = True
    """Whether `ALTER TABLE … DROP COLUMN` works on the tables it builds; without, no stage takes
    over a working table (render.Takeover): each is built by `CREATE TABLE … AS`."""

    def rewrite(self, tree: exp.Expression) -> exp.Expression:
        if not self.rewrites:
            return tree
        return tree.transform(lambda n: self.rewrites[type(n)](n) if type(n) in self.rewrites else n,
                              copy=False)

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
        # Plain Spark (parquet) tables have neither CREATE OR REPLACE … AS nor DROP COLUMN
        # (both need a v2 catalog such as Delta); DROP + CREATE works on Databricks as well.
        Dialect("spark", create_or_replace=False, default_source="tracks", drop_column=False,
                rewrites={exp.TimestampDiff: _timestamp_diff_as_unix_micros}),
    )
}

ALIASES = {"bq": "bigquery", "sf": "snowflake", "rs": "redshift", "databricks": "spark", "dbx": "spark"}


def get_dialect(name: str) -> Dialect:
    key = ALIASES.get(name.lower(), name.lower())
    if key not in DIALECTS:
        valid = ", ".join([*DIALECTS, *(f"{a} ({d})" for a, d in ALIASES.items())])
        raise ConfigError(f"unknown dialect {name!r}; valid dialects: {valid}")
    return DIALECTS[key]
