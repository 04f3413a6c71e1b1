"""Snowflake: snowflake-connector-python; upper-case names, auto-committed DDL, SWAP WITH."""

from __future__ import annotations

import re
from typing import Sequence

import snowflake.connector
from snowflake.connector.errors import Error as SnowflakeError
from sqlglot import exp, parse_one
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from journeyctl.connectors.base import Connector, Option
from journeyctl.errors import ConnectionFailed
from journeyctl.names import SchemaName, TableName

DEFAULT_TIMEOUT = 30
_CREATE_SCHEMA = re.compile(r"\s*CREATE\s+(OR\s+REPLACE\s+)?(TRANSIENT\s+)?SCHEMA\b", re.IGNORECASE)


class SnowflakeConnector(Connector):
    type = "snowflake"
    dialect_name = "snowflake"
    transactional_ddl = False  # DDL commits the open transaction
    extra = "snowflake"
    options = {
        "account": Option("account identifier, e.g. myorg-myaccount", required=True),
        "user": Option("login name"),
        "password": Option("password (use ${VAR} to read it from the environment)", secret=True),
        "private_key_path": Option("PEM private key for key-pair authentication, relative to journeyctl.toml"),
        "private_key_passphrase": Option("passphrase of an encrypted private key", secret=True),
        "authenticator": Option("snowflake (default), externalbrowser, oauth, … as the connector names them"),
        "role": Option("role to use"),
        "warehouse": Option("virtual warehouse that runs the queries"),
        "database": Option("database of unqualified names"),
        "schema": Option("schema of unqualified names (the source table, by default)"),
        "host": Option("host name, when not derived from the account (a proxy or local stand-in)"),
        "port": Option("port, with host", kinds=(int,)),
        "protocol": Option("https (default); http only for a local stand-in"),
        "timeout": Option(f"seconds to wait for the login (default {DEFAULT_TIMEOUT})", kinds=(int, float)),
    }

    def describe(self) -> str:
        s = self.settings
        where = ".".join(p for p in (s.get("database"), s.get("schema")) if p)
        return (f"snowflake target {self.target.name!r} (account {s['account']}"
                + (f", user {s['user']}" if s.get("user") else "")
                + (f", {where}" if where else "") + ")")

    # --- connection -------------------------------------------------------------
    def connect_args(self) -> dict:
        """Keyword arguments for snowflake.connector.connect.

        `timeout` bounds the login only: the connector's network_timeout would also
        cancel every query running longer than it (its "timebomb"), which a journey
        stage on a large table can legitimately do.
        """
        s = self.settings
        args = {k: s[k] for k in ("account", "user", "password", "authenticator", "role", "warehouse",
                                  "database", "schema", "host", "port", "protocol") if k in s}
        if "private_key_path" in s:
            args["private_key_file"] = str(self.target.base_dir / s["private_key_path"])
            if "private_key_passphrase" in s:
                args["private_key_file_pwd"] = s["private_key_passphrase"]
        args["login_timeout"] = int(s.get("timeout", DEFAULT_TIMEOUT))
        args["application"] = "journeyctl"
        args["session_parameters"] = {"QUERY_TAG": "journeyctl", "TIMEZONE": "UTC"}
        return args

    def open(self) -> None:
        try:
            self.connection = snowflake.connector.connect(**self.connect_args())
            database, schema = self.query("SELECT CURRENT_DATABASE(), CURRENT_SCHEMA()")[0]
        except (SnowflakeError, OSError, ValueError, TypeError) as e:
            raise ConnectionFailed(
                f"cannot connect to {self.describe()}: {self.scrub(str(e).strip())}",
                hint=f"check account, user and password (or private_key_path and private_key_passphrase) "
                     f"in [targets.{self.target.name}]; for a host other than "
                     "<account>.snowflakecomputing.com set host (and port)")
        self.home = exp.table_(schema, catalog=database, quoted=True) if database and schema else None

    def execute(self, sql: str) -> None:
        """Run `sql`; after a CREATE SCHEMA, return to the session's own schema.

        Snowflake makes a newly created schema the session's current one, which would
        move every unqualified name (the default source TRACKS) into the output schema.
        """
        with self.connection.cursor() as cursor:
            cursor.execute(sql)
            if self.home is not None and _CREATE_SCHEMA.match(sql):
                cursor.execute(self.render(exp.Use(kind=exp.var("SCHEMA"), this=self.home.copy())))

    def query(self, sql: str) -> list[tuple]:
        with self.connection.cursor() as cursor:
            return [tuple(row) for row in cursor.execute(sql).fetchall()]

    # --- tables -----------------------------------------------------------------
    def _normalised(self, name: str) -> str:
        """How Snowflake stores an unquoted name: upper-case (`tracks` is `TRACKS`)."""
        return normalize_identifiers(exp.to_identifier(name), dialect=self.dialect_name).name

    def columns(self, table: TableName) -> dict[str, str] | None:
        """Columns the rendered SQL can reach, keyed lower-case; None when the table is missing.

        Matches names exactly as the rendered (quoted, upper-cased) SQL does: a table or
        column created with a quoted lower-case name is not the one it reads.
        """
        *qualifiers, name = table.parts
        catalog = qualifiers[0] if len(qualifiers) == 2 else None
        schema = qualifiers[-1] if qualifiers else None
        query = (
            exp.select("column_name", "data_type")
            .from_(exp.table_("columns", db="information_schema", catalog=catalog))
            .where(exp.column("table_name").eq(exp.Literal.string(self._normalised(name))))
            .where(exp.column("table_schema").eq(
                exp.Literal.string(self._normalised(schema)) if schema else exp.CurrentSchema()))
        )
        rows = self.query(self.render(query))
        if not rows:
            return None
        return {str(c).lower(): str(t).upper() for c, t in rows if str(c) == self._normalised(str(c))}

    def tables_in_schema(self, schema: SchemaName) -> list[TableName]:
        """Tables and views in `schema`, matched by its stored (upper-case) name as the rendered SQL
        is. Views are read from information_schema.views too: a stand-in lists only tables in .tables."""
        names = dict.fromkeys([*self._names(schema, "tables"), *self._names(schema, "views")])
        return [schema.table(name) for name in names]

    def views_in_schema(self, schema: SchemaName) -> list[str]:
        return self._names(schema, "views")

    def _names(self, schema: SchemaName, kind: str) -> list[str]:
        *catalog, name = schema.parts
        query = (exp.select("table_name")
                 .from_(exp.table_(kind, db="information_schema", catalog=catalog[0] if catalog else None))
                 .where(exp.column("table_schema").eq(exp.Literal.string(self._normalised(name)))))
        return [str(t) for (t,) in self.query(self.render(query))]

    # --- publishing ---------------------------------------------------------------
    def swap_statements(self, pairs: Sequence[tuple[TableName, TableName]]) -> list[exp.Expression]:
        """Per table: `ALTER TABLE final SWAP WITH staging`, then drop staging.

        Snowflake commits every DDL statement on its own, so there is no transaction to
        make the set atomic: each table is swapped atomically (readers see the old or the
        new table, never none), one after the other. A first run, when `final` does not
        exist yet, renames staging instead (see run_publish).
        """
        statements: list[exp.Expression] = []
        for staging, final in pairs:
            statements.append(exp.Alter(this=final.to_table(), kind="TABLE",
                                        actions=[exp.SwapTable(this=staging.to_table())]))
            statements.append(exp.Drop(tables=[staging.to_table()], kind="TABLE", exists=True))
        return statements

    def run_publish(self, statements: Sequence[str], execute) -> None:
        """Run the publish statements, renaming where the published table is still missing.

        SWAP WITH needs both tables; for a missing `final`, `ALTER TABLE staging RENAME
        TO final` (fully qualified: an unqualified target would move the table into the
        session's current schema) and the DROP of the staging name becomes a no-op.
        No rollback: Snowflake DDL is not transactional.
        """
        for sql in statements:
            tree = parse_one(sql, read=self.dialect_name)
            swap = tree.find(exp.SwapTable) if isinstance(tree, exp.Alter) else None
            if swap is not None and self.columns(_table_name(tree.this)) is None:
                rename = exp.Alter(this=swap.this.copy(), kind="TABLE",
                                   actions=[exp.AlterRename(this=tree.this.copy())])
                sql = self.render(rename)
            execute(sql)


def _table_name(table: exp.Table) -> TableName:
    return TableName(tuple(p.name for p in table.parts))
