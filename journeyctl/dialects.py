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


TEXT_KEY = re.compile(r"(event|event_id|event_\d+|id|anonymous_id|user_id|alias|dbt_visitor_id|session_id"
                      r"|item|item_\d+|from_item|to_item)")
"""The text columns (the contract's ids, event names and path items) that queries order by."""


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


def _default_like_escape(node: exp.Expression) -> exp.Expression:
    """ClickHouse has no ESCAPE clause: its LIKE escapes with a backslash, always."""
    if not isinstance(node.this, exp.Like) or node.expression.name != "\\":
        raise RenderError(f"LIKE … ESCAPE {node.expression.sql()} has no rendering here",
                          hint="escape LIKE patterns with a backslash, which it always is")
    return node.this


REGEX_SPECIALS = set("\\.+*?()|[]{}^$")
"""The characters a regular expression (RE2, Java, POSIX) gives a meaning."""


def _like_as_regexp(node: exp.Expression) -> exp.Expression:
    """`x LIKE p ESCAPE '\\'` as a whole-text RE2 match. BigQuery's LIKE escapes with a backslash,
    but its emulator (and so the tests) treats an escaped LIKE as matching nothing; a regular
    expression means the same on both."""
    like, pattern = node.this, node.this.expression
    if not isinstance(like, exp.Like) or node.expression.name != "\\" or not pattern.is_string:
        raise RenderError(f"LIKE … ESCAPE {node.expression.sql()} has no BigQuery rendering",
                          hint="escape LIKE patterns with a backslash, in a literal pattern")
    regex, chars = [], iter(pattern.name)
    for c in chars:
        if c == "%":
            regex.append(".*")
        elif c == "_":
            regex.append(".")
        else:
            c = next(chars, "") if c == "\\" else c
            regex.append("\\" + c if c in REGEX_SPECIALS else c)
    return exp.RegexpLike(this=like.this, expression=exp.Literal.string(f"(?s)^{''.join(regex)}$"))


def _nullable_argument(node: exp.Expression) -> exp.Expression:
    """ClickHouse's lag/lead past the partition's edge give the type's default ('' or
    1970-01-01) on a non-Nullable column; on a Nullable one, NULL as everywhere else."""
    node.set("this", exp.Anonymous(this="toNullable", expressions=[node.this]))
    return node


def _lower_case_name(node: exp.Expression) -> exp.Expression:
    """ClickHouse's function names are case-sensitive, and sqlglot writes some upper-case
    (TRANSLATE, which the identity graph's placeholder test uses): the name ClickHouse knows."""
    return exp.Anonymous(this=node.sql_name().lower(),
                         expressions=[node.args[k] for k in node.arg_types if node.args.get(k) is not None])


def _standard_name_resolution(node: exp.Expression) -> exp.Expression:
    """Settings on each ClickHouse query, so a rendered script is right on any session.

    prefer_column_name_to_alias = 1: a name means the column, as in standard SQL (ClickHouse
    otherwise reads `dbt_visitor_id` in `MIN(dbt_visitor_id) AS dbt_visitor_id,
    COUNT(DISTINCT dbt_visitor_id)` as the alias). join_use_nulls = 1 where the query has an
    outer join: its missing side is NULL, not the type's default ('' or 0).
    """
    settings = {"prefer_column_name_to_alias": 1}
    if any(j.side in ("LEFT", "RIGHT", "FULL") for j in node.args.get("joins") or []):
        settings["join_use_nulls"] = 1
    node.set("settings", [*(node.args.get("settings") or []),
                          *(exp.EQ(this=exp.var(k), expression=exp.Literal.number(v))
                            for k, v in settings.items())])
    return node


def _current_database(_: exp.Expression) -> exp.Expression:
    """ClickHouse has databases, not schemas: currentDatabase() is the unqualified names' home."""
    return exp.CurrentDatabase()


def _utc_microsecond_timestamp(node: exp.Expression) -> exp.Expression:
    """A neutral TIMESTAMP is an instant to the microsecond (naive values are UTC); ClickHouse's
    DateTime is whole seconds in the server's zone."""
    if node.this not in (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPTZ):
        return node
    utc = exp.DataType.build("DateTime64(6, 'UTC')", dialect="clickhouse")
    utc.set("nullable", None)  # Nullable(…), as the other types are rendered
    return utc


def _instant_timestamp(node: exp.Expression) -> exp.Expression:
    """A neutral TIMESTAMP is an instant; BigQuery's instant type is TIMESTAMP (sqlglot writes a
    neutral TIMESTAMP as DATETIME, a wall-clock type that does not compare with TIMESTAMP)."""
    return exp.DataType.build("TIMESTAMPTZ") if node.this == exp.DataType.Type.TIMESTAMP else node


def _is_week(node: exp.Expression) -> bool:
    unit = node.args.get("unit")
    return isinstance(unit, exp.Var) and unit.name.upper() == "WEEK"


def _week_from_monday(node: exp.Expression) -> exp.Expression:
    """BigQuery's WEEK begins on Sunday; ISOWEEK (as WEEK(MONDAY)) is the week the other engines
    use, and one its emulator also translates."""
    if _is_week(node):
        node.set("unit", exp.var("ISOWEEK"))
    return node


def _week_from_iso_monday(node: exp.Expression) -> exp.Expression:
    """Snowflake's DATE_TRUNC('WEEK') begins on the account's WEEK_START; the day minus its ISO
    weekday − 1 is Monday on any account."""
    if not _is_week(node):
        return node
    day = exp.TimestampTrunc(this=node.this.copy(), unit=exp.var("DAY"))
    back = exp.Sub(this=exp.Literal.number(1), expression=exp.DayOfWeekIso(this=node.this.copy()))
    return exp.DateAdd(this=day, expression=back, unit=exp.var("DAY"))


def _rename_table(node: exp.Expression) -> exp.Expression:
    """ClickHouse has no ALTER TABLE … RENAME TO; RENAME TABLE a TO b (atomic) instead."""
    actions = node.args.get("actions") or []
    if len(actions) != 1 or not isinstance(actions[0], exp.AlterRename):
        return node
    return exp.Command(this="RENAME", expression=exp.Literal.string(
        f"TABLE {quoted_sql(node.this, 'clickhouse')} TO {quoted_sql(actions[0].this, 'clickhouse')}"))


def quoted_sql(table: exp.Table, dialect: str) -> str:
    """A table name as `dialect` SQL with every part quoted, for statements sqlglot keeps as text."""
    table = table.copy()
    for ident in table.find_all(exp.Identifier):
        ident.set("quoted", True)
    return table.sql(dialect=dialect)


def _merge_tree() -> exp.Properties:
    """ENGINE = MergeTree ORDER BY tuple(): ClickHouse's plain persistent table, unsorted."""
    return exp.Properties(expressions=[
        exp.EngineProperty(this=exp.var("MergeTree")),
        exp.Order(expressions=[exp.Ordered(this=exp.Struct(), nulls_first=False)])])


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
    table_properties: Callable[[], exp.Properties] | None = None
    """Properties every created table needs (ClickHouse: its table engine)."""
    timestamp_types: tuple[str, ...] = ("TIMESTAMP",)
    """Words in an information_schema type name that mark an instant the gap SQL accepts."""
    drop_column: bool = True
    """Whether `ALTER TABLE … DROP COLUMN` works on the tables it builds; without, no stage takes
    over a working table (render.Takeover): each is built by `CREATE TABLE … AS`."""
    delete_using: bool = True
    """Whether `DELETE … USING` joins the rows to delete; without (BigQuery), a key IN a join."""
    views_hold_tables: bool = False
    """Whether a view is bound to the table it reads (PostgreSQL, Redshift), not to its name: the
    table cannot be dropped under it, and a renamed table takes the view along."""
    views_read_own_schema: bool = False
    """Whether a view's unqualified names resolve in the view's own schema (DuckDB), not the session's."""

    def rewrite(self, tree: exp.Expression) -> exp.Expression:
        """`tree` with the rewrites applied, innermost first (a rewritten node's parts are too)."""
        for node in reversed(list(tree.dfs())):
            rewrite = self.rewrites.get(type(node))
            new = rewrite(node) if rewrite else node
            if new is node:
                continue
            if node is tree:
                tree = new
            else:
                node.replace(new)
        return tree

    def build_table(self, table: exp.Table | exp.Schema,
                    query: exp.Expression | None = None) -> list[exp.Expression]:
        """Statements that (re)create `table` from `query` (or empty, given an exp.Schema)."""
        create = exp.Create(this=table, kind="TABLE", expression=query,
                            replace=self.create_or_replace,
                            properties=self.table_properties() if self.table_properties else None)
        if self.create_or_replace:
            return [create]
        name = table.this if isinstance(table, exp.Schema) else table
        return [drop_table(name.copy()), create]


DIALECTS: dict[str, Dialect] = {
    d.name: d
    for d in (
        Dialect("duckdb", create_or_replace=True, default_source="tracks", views_read_own_schema=True),
        Dialect("bigquery", create_or_replace=True, default_source="tracks", delete_using=False,
                rewrites={exp.DataType: _instant_timestamp, exp.TimestampTrunc: _week_from_monday,
                          exp.Escape: _like_as_regexp}),
        Dialect("snowflake", create_or_replace=True, default_source="TRACKS",
                rewrites={exp.TimestampTrunc: _week_from_iso_monday}),
        Dialect("redshift", create_or_replace=False, default_source="tracks", views_hold_tables=True,
                rewrites={exp.TimestampDiff: _timestamp_diff_as_datediff}),
        Dialect("postgres", create_or_replace=False, default_source="tracks", views_hold_tables=True,
                rewrites={exp.TimestampDiff: _timestamp_diff_as_epoch_micros,
                          exp.Ordered: _text_in_byte_order}),
        Dialect("clickhouse", create_or_replace=True, default_source="tracks",
                table_properties=_merge_tree, timestamp_types=("DATETIME",),
                rewrites={exp.TimestampDiff: _timestamp_diff_as_datediff,
                          exp.Lag: _nullable_argument, exp.Lead: _nullable_argument,
                          exp.Select: _standard_name_resolution,
                          exp.CurrentSchema: _current_database,
                          exp.DataType: _utc_microsecond_timestamp,
                          exp.Alter: _rename_table,
                          exp.Translate: _lower_case_name,
                          exp.Escape: _default_like_escape}),

        # Plain Spark (parquet) tables have neither CREATE OR REPLACE … AS nor DROP COLUMN
        # (both need a v2 catalog such as Delta); DROP + CREATE works on Databricks as well.
        Dialect("spark", create_or_replace=False, default_source="tracks", drop_column=False,
                rewrites={exp.TimestampDiff: _timestamp_diff_as_unix_micros}),
    )
}

ALIASES = {"bq": "bigquery", "sf": "snowflake", "rs": "redshift", "pg": "postgres", "ch": "clickhouse",
           "databricks": "spark", "dbx": "spark"}


def get_dialect(name: str) -> Dialect:
    key = ALIASES.get(name.lower(), name.lower())
    if key not in DIALECTS:
        valid = ", ".join([*DIALECTS, *(f"{a} ({d})" for a, d in ALIASES.items())])
        raise ConfigError(f"unknown dialect {name!r}; valid dialects: {valid}")
    return DIALECTS[key]
