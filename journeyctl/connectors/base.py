"""What every connector does, written once; engine modules override only what differs."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, ClassVar, Iterable, Sequence

from sqlglot import exp

from journeyctl.config import Target, check_keys
from journeyctl.dialects import Dialect, drop_table, get_dialect
from journeyctl.errors import ConfigError, ExecutionError, redact
from journeyctl.layout import Publication
from journeyctl.names import SchemaName, TableName
from journeyctl.render import generate

INSERT_BATCH_ROWS = 1000
_LINE_IN_ERROR = re.compile(r"\bline (\d+)\b", re.IGNORECASE)
CONCURRENT_DDL = {"42P07", "23505", "40001", "40P01"}
"""SQLSTATEs (PostgreSQL's, and Redshift's) a publish gets when another session creates or replaces
the same tables at the same time: duplicate table, unique violation (on the catalog's names),
serialization failure, deadlock."""


@dataclass(frozen=True)
class Option:
    """One key a target of this type accepts."""

    help: str
    required: bool = False
    secret: bool = False
    kinds: tuple[type, ...] = (str,)


COMMON_OPTIONS = {
    "concurrency": Option("stages run at once, each on its own connection (default: the engine's)",
                          kinds=(int,)),
    "layout": Option('"views" or "tables": the published tables\' layout here (default: [pipeline] layout)'),
}
"""Keys every target type accepts."""


class Connector(ABC):
    """A connection to one target: run statements, read rows, describe tables."""

    type: ClassVar[str]
    dialect_name: ClassVar[str]
    extra: ClassVar[str | None] = None
    """The pip extra that installs this connector's client library."""
    options: ClassVar[dict[str, Option]] = {}
    single_writer: ClassVar[bool] = False
    """True where the engine admits one writing process at a time (DuckDB's file lock)."""
    transactional_dml: ClassVar[bool] = True
    """Whether DELETE and INSERT on several tables can commit as one transaction (incremental runs)."""
    transactional_ddl: ClassVar[bool] = True
    """Whether DROP TABLE waits for the transaction it is in (DuckDB, PostgreSQL, Redshift);
    Snowflake and BigQuery commit or refuse instead."""
    default_concurrency: ClassVar[int] = 4
    """Stages run at once when the target does not say: a warehouse runs them side by side."""
    max_concurrency: ClassVar[int | None] = None
    """The most the engine allows (an embedded engine's one session: 1); None for no limit."""

    def __init__(self, target: Target):
        check_keys(target.options, {*self.options, *COMMON_OPTIONS},
                   f"[targets.{target.name}] (type {self.type})")
        for key, option in {**self.options, **COMMON_OPTIONS}.items():
            value = target.options.get(key)
            if value is None:
                if option.required:
                    raise ConfigError(f"[targets.{target.name}] needs {key!r}: {option.help}")
                continue
            if isinstance(value, bool) and bool not in option.kinds or not isinstance(value, option.kinds):
                kinds = " or ".join(k.__name__ for k in option.kinds)
                raise ConfigError(f"[targets.{target.name}] {key} must be {kinds}")
        self.target = target
        self.settings = target.options
        self.allowed_concurrency(self.concurrency, f"[targets.{target.name}] concurrency")

    def allowed_concurrency(self, n: int, where: str) -> int:
        """`n` if this engine can run that many stages at once, else a ConfigError saying why."""
        if not 1 <= n <= (self.max_concurrency or n):
            most = f" and at most {self.max_concurrency} on {self.type}" if self.max_concurrency else ""
            raise ConfigError(f"{where} must be at least 1{most}, got {n}")
        return n

    @property
    def concurrency(self) -> int:
        """How many stages run at once: the target's `concurrency`, else the engine's default."""
        return self.settings.get("concurrency", min(self.default_concurrency,
                                                    self.max_concurrency or self.default_concurrency))

    def worker(self) -> Connector:
        """Another open connection to the same target, for a stage run beside this one's."""
        other = type(self)(self.target)
        other.open()
        return other

    def interrupt(self) -> None:
        """Stop what this connection is running, where the client can (a failed or interrupted run
        waits for its other stages); by default they are waited for."""

    @property
    def dialect(self) -> Dialect:
        return get_dialect(self.dialect_name)

    @property
    def secrets(self) -> list[str]:
        """Values that must never be printed."""
        return [str(self.settings[k]) for k, o in self.options.items()
                if o.secret and self.settings.get(k)]

    def scrub(self, text: str) -> str:
        """`text` with every secret of this target replaced by ***, for messages."""
        return redact(text, self.secrets)

    def describe(self) -> str:
        """Where this connects, for humans; never includes a secret."""
        return f"{self.type} target {self.target.name!r}"

    def output_schema(self) -> str | None:
        """A schema the target's own settings name for the output (BigQuery's dataset)."""
        return None

    def output_layout(self) -> str | None:
        """The layout the target's own settings name (`layout`), over [pipeline] layout."""
        return self.settings.get("layout")

    # --- connection -------------------------------------------------------------
    @abstractmethod
    def open(self) -> None:
        """Connect; raise ConnectionFailed with a usable message."""

    def close(self) -> None:
        """Close the client connection open() kept in `self.connection`, if any."""
        if getattr(self, "connection", None) is not None:
            self.connection.close()
            self.connection = None

    def __enter__(self) -> Connector:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- statements -------------------------------------------------------------
    @abstractmethod
    def execute(self, sql: str) -> None:
        """Run one statement."""

    @abstractmethod
    def query(self, sql: str) -> list[tuple]:
        """Run one query and return its rows."""

    def render(self, tree: exp.Expression) -> str:
        return generate(tree, self.dialect, f"{self.type} connector")

    def count_rows(self, table: TableName) -> int:
        query = exp.select(exp.Count(this=exp.Star())).from_(table.to_table())
        return int(self.query(self.render(query))[0][0])

    def columns(self, table: TableName) -> dict[str, str] | None:
        """Column name (lower-case) → type name, or None when the table does not exist."""
        *_, schema, name = ("", "", *table.parts)
        query = (
            exp.select("column_name", "data_type")
            .from_(exp.table_("columns", db="information_schema",
                              catalog=table.parts[0] if len(table.parts) == 3 else None))
            .where(exp.func("lower", exp.column("table_name")).eq(exp.Literal.string(name.lower())))
        )
        # An unqualified name is the one in the session's current schema, as in the SQL.
        query = query.where(exp.func("lower", exp.column("table_schema")).eq(
            exp.Literal.string(schema.lower()) if schema else exp.func("lower", exp.CurrentSchema())))
        rows = self.query(self.render(query))
        return {str(c).lower(): str(t).upper() for c, t in rows} or None

    def execution_error(self, error: Exception, sql: str, stage: str) -> ExecutionError:
        """The warehouse's own error, placed: stage, target, dialect and (if given) SQL line."""
        text = self.scrub(str(error).strip())
        line = _LINE_IN_ERROR.search(text)
        return ExecutionError(
            f"stage {stage} failed on {self.describe()} (dialect {self.dialect.name}): {text}",
            hint="run again with --verbose to see the failing SQL",
            sql=sql, line=int(line.group(1)) if line else None)

    def server_error(self, stage: str, sql: str, message: str, position: int | None,
                     concurrent: bool) -> ExecutionError:
        """A server's error with its fields (PostgreSQL wire protocol): the message, its line in `sql`
        from the 1-based character `position`, and, for a publish that collided with another
        run's (`concurrent`), what happened and what to do."""
        line = sql[:position].count("\n") + 1 if position else None
        message, hint = self.scrub(message), "run again with --verbose to see the failing SQL"
        if stage == "publish" and concurrent:
            message += " (another run published into the same schema at the same time)"
            hint = ("this run's publish was rolled back: the published tables are the other run's "
                    "complete set; run again to publish this run's build")
        return ExecutionError(
            f"stage {stage} failed on {self.describe()} (dialect {self.dialect.name}): {message}",
            hint=hint, sql=sql, line=line)

    # --- publishing ---------------------------------------------------------------
    def publish_statements(self, publication: Publication) -> list[str]:
        """Put the publication's tables and views in place.

        Where DDL is transactional (DuckDB, PostgreSQL, Redshift), all in one transaction:
        readers see the old set or the new set, never a mix, and concurrent publishes serialise.
        Elsewhere each table is swapped, then each view replaced, atomically one by one.
        """
        one = self.transactional_ddl
        statements = [*publication.drops_before_tables(one), *self.swap_statements(publication.tables),
                      *publication.view_statements(one), *publication.drops_after_tables(one)]
        if one:
            statements = [exp.Transaction(), *statements, exp.Commit()]
        return [self.render(s) for s in statements]

    def swap_statements(self, pairs: Sequence[tuple[TableName, TableName]]) -> list[exp.Expression]:
        """Replace each published table by its staging table: DROP and RENAME (in a transaction)."""
        statements: list[exp.Expression] = []
        for staging, final in pairs:
            statements.append(drop_table(final.to_table()))
            statements.append(exp.Alter(this=staging.to_table(), kind="TABLE",
                                        actions=[exp.AlterRename(this=exp.to_table(final.name))]))
        return statements

    def run_publish(self, statements: Sequence[str], execute) -> None:
        """Execute the publish statements; roll back if one fails."""
        try:
            for sql in statements:
                execute(sql)
        except BaseException:
            try:
                self.execute(self.render(exp.Rollback()))
            except Exception:
                pass
            raise

    def run_transaction(self, statements: Sequence[str], execute,
                        check: Callable[[], None] | None = None) -> None:
        """Execute DML `statements` as one transaction: all of them, or (on any failure, or
        when `check`, run just before COMMIT, raises) none. Snowflake commits an open
        transaction on DDL, so only DML belongs here."""
        execute(self.render(exp.Transaction()))
        try:
            for sql in statements:
                execute(sql)
            if check is not None:
                check()
            execute(self.render(exp.Commit()))
        except BaseException:
            try:
                self.execute(self.render(exp.Rollback()))
            except Exception:
                pass
            raise

    def scratch_schema(self, schema: SchemaName) -> SchemaName | None:
        """A schema for an incremental run's working tables that need no durability (read by
        this connection only, rebuilt by a rerun), beside `schema`; None to keep them in it."""
        return None

    def drop_statements(self, tables: Iterable[TableName]) -> list[str]:
        return [self.render(drop_table(t.to_table())) for t in tables]

    def tables_in_schema(self, schema: SchemaName) -> list[TableName]:
        """Tables and views in `schema` (names as the engine stores them)."""
        return [schema.table(str(name)) for (name,) in self.query(self.render(self._relations(schema)))]

    def views_in_schema(self, schema: SchemaName) -> list[str]:
        """The names of the views in `schema`."""
        query = self._relations(schema).where(exp.column("table_type").eq(exp.Literal.string("VIEW")))
        return [str(name) for (name,) in self.query(self.render(query))]

    def _relations(self, schema: SchemaName) -> exp.Select:
        return (exp.select("table_name")
                .from_(exp.table_("tables", db="information_schema",
                                  catalog=schema.parts[0] if len(schema.parts) == 2 else None))
                .where(exp.func("lower", exp.column("table_schema"))
                       .eq(exp.Literal.string(schema.parts[-1].lower()))))

    # --- loading ----------------------------------------------------------------
    def create_table(self, table: TableName, columns: Sequence[tuple[str, str]]) -> None:
        """(Re)create an empty table with the given (name, neutral type) columns."""
        schema = exp.Schema(this=table.to_table(), expressions=[
            exp.ColumnDef(this=exp.to_identifier(name), kind=exp.DataType.build(kind))
            for name, kind in columns])
        for statement in self.dialect.build_table(schema):
            self.execute(self.render(statement))

    def insert_rows(self, table: TableName, columns: Sequence[tuple[str, str]],
                    rows: Iterable[Sequence[Any]]) -> None:
        """Append rows with batched multi-row INSERTs; engines with a bulk path override this."""
        batch: list[Sequence[Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == INSERT_BATCH_ROWS:
                self._insert_batch(table, columns, batch)
                batch = []
        if batch:
            self._insert_batch(table, columns, batch)

    def _insert_batch(self, table: TableName, columns, batch) -> None:
        values = exp.values([tuple(_literal(v, kind) for v, (_, kind) in zip(row, columns))
                             for row in batch])
        insert = exp.insert(values, table.to_table(), columns=[name for name, _ in columns])
        self.execute(self.render(insert))


def csv_line(values: Sequence[Any], null: str = "") -> str:
    """One CSV line for a bulk loader: every text value quoted, so that '' and ' x ' survive loaders
    that read an empty field as NULL or trim unquoted blanks; NULL is `null`, unquoted."""
    def field(value: Any) -> str:
        if value is None:
            return null
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return repr(value)
        return '"' + str(value).replace('"', '""') + '"'
    return ",".join(field(v) for v in values) + "\n"


def _literal(value: Any, kind: str) -> exp.Expression:
    if value is None:
        return exp.Null()
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.build(kind))
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))
