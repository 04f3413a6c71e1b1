"""ClickHouse: embedded through chdb (`path`), or a server through clickhouse-connect (`host`)."""

from __future__ import annotations

import fcntl
import importlib
import itertools
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

from sqlglot import exp

from journeyctl.connectors.base import Connector, Option, csv_line
from journeyctl.dialects import quoted_sql
from journeyctl.errors import ConfigError, ConnectionFailed
from journeyctl.names import TableName

DEFAULT_TIMEOUT = 30
INSERT_BATCH_ROWS = 100_000
logging.getLogger("clickhouse_connect").addHandler(logging.NullHandler())  # errors reach the user once, as ours
SESSION_SETTINGS = {"join_use_nulls": 1}
"""A LEFT JOIN's missing side is NULL (not the type's default) for any SQL this session runs;
the rendered SQL also sets it per query, so a script piped into clickhouse-client needs nothing."""


class ClickHouseConnector(Connector):
    """Publish swaps each table with `EXCHANGE TABLES` (atomic on the Atomic database engine, the
    default): a reader sees the old table or the new one, never none or a mix of rows. ClickHouse
    DDL is not transactional, so the set of five is replaced one table after the other, as on
    Snowflake. There is no transactional DELETE/INSERT either.
    """

    type = "clickhouse"
    dialect_name = "clickhouse"
    transactional_dml = False
    transactional_ddl = False
    max_concurrency = 1  # chdb: one session per data directory; the server path likewise, to match
    extra = "clickhouse"
    options = {
        "path": Option("embedded ClickHouse (chdb): its data directory, relative to journeyctl.toml"),
        "host": Option("server host name (instead of path), reached through its HTTP interface"),
        "port": Option("HTTP(S) port (default 8123, or 8443 with secure)", kinds=(int,)),
        "user": Option("user name (default: default)"),
        "password": Option("password (use ${VAR} to read it from the environment)", secret=True),
        "secure": Option("use HTTPS (default false)", kinds=(bool,)),
        "timeout": Option(f"seconds to wait for the connection (default {DEFAULT_TIMEOUT})",
                          kinds=(int, float)),
    }

    def __init__(self, target):
        super().__init__(target)
        if ("path" in self.settings) == ("host" in self.settings):
            raise ConfigError(f"[targets.{target.name}] (type clickhouse) needs either path "
                              "(embedded ClickHouse) or host (a server), not both or neither",
                              hint='e.g. path = "journey.chdb", or host = "localhost"')
        self.session = self.client = self.lock = None

    @property
    def embedded(self) -> bool:
        return "path" in self.settings

    @property
    def single_writer(self) -> bool:
        """Embedded: one process owns the data directory (see open), so no other run can be live."""
        return self.embedded

    @property
    def path(self) -> Path:
        return self.target.base_dir / self.settings["path"]

    @property
    def port(self) -> int:
        return self.settings.get("port", 8443 if self.settings.get("secure") else 8123)

    def describe(self) -> str:
        if self.embedded:
            return f"clickhouse target {self.target.name!r} (embedded, {self.path})"
        user = f", user {self.settings['user']}" if "user" in self.settings else ""
        return f"clickhouse target {self.target.name!r} ({self.settings['host']}:{self.port}{user})"

    # --- connection -------------------------------------------------------------
    def open(self) -> None:
        if self.embedded:
            self._open_embedded()
        else:
            self._open_server()

    def _open_embedded(self) -> None:
        """chdb keeps the databases in `path`, one process at a time. ClickHouse's own lock on the
        directory reaches chdb's caller as a bare "Error initializing EmbeddedServer" (the reason
        printed to the console): journeyctl's lock file, taken first, says it in words."""
        session = _client("chdb.session")
        self.path.mkdir(parents=True, exist_ok=True)
        self.lock = open(self.path / "journeyctl.lock", "w")
        try:
            fcntl.flock(self.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.close()
            raise ConnectionFailed(f"embedded ClickHouse data directory {self.path} is in use by "
                                   "another process; chdb lets one process use it at a time",
                                   hint="wait for the other run (or program) to finish, then run again")
        try:
            self.session = session.Session(str(self.path))
            for name, value in SESSION_SETTINGS.items():
                self.session.query(self.render(exp.Set(expressions=[exp.SetItem(
                    this=exp.EQ(this=exp.var(name), expression=exp.Literal.number(value)))])))
        except Exception as e:
            self.close()
            raise ConnectionFailed(f"cannot open {self.describe()}: {e}",
                                   hint="chdb opens one data directory per process: close the other "
                                        "connection, or check the path")

    def _open_server(self) -> None:
        clickhouse_connect = _client("clickhouse_connect")
        s = self.settings
        try:
            self.client = clickhouse_connect.get_client(
                host=s["host"], port=self.port, username=s.get("user", "default"),
                password=s.get("password", ""), secure=s.get("secure", False),
                connect_timeout=s.get("timeout", DEFAULT_TIMEOUT), settings=SESSION_SETTINGS,
                autogenerate_session_id=False, client_name="journeyctl")
        except Exception as e:
            raise ConnectionFailed(
                f"cannot connect to {self.describe()}: {self.scrub(str(e).strip())}",
                hint=f"check host, port, user, password and secure in [targets.{self.target.name}], "
                     "and that the server's HTTP interface accepts connections from this machine")

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None
        if self.lock is not None:
            self.lock.close()
            self.lock = None
        if self.client is not None:
            self.client.close()
            self.client = None

    # --- statements -------------------------------------------------------------
    def execute(self, sql: str) -> None:
        if self.session is not None:
            self.session.query(sql)
        else:
            self.client.command(sql)

    def query(self, sql: str) -> list[tuple]:
        if self.client is not None:
            return [tuple(row) for row in self.client.query(sql).result_rows]
        table = self.session.query(sql, "ArrowTable")
        return list(zip(*(column.to_pylist() for column in table.columns)))

    def insert_rows(self, table: TableName, columns: Sequence[tuple[str, str]],
                    rows: Iterable[Sequence[Any]]) -> None:
        """Bulk path: `INSERT INTO t (…) FORMAT CSV` with the rows inline (100,000 in ~0.2 s).

        The base class's INSERT … VALUES (CAST(…)) makes ClickHouse evaluate each value as an
        expression: ~4 s per 1,000 rows. Timestamps are written as UTC wall-clock time, which is
        what the `DateTime64(6, 'UTC')` columns that create_table makes read.
        """
        header = self.render(exp.Insert(this=exp.Schema(
            this=table.to_table(), expressions=[exp.to_identifier(name) for name, _ in columns])))
        rows = iter(rows)
        while batch := list(itertools.islice(rows, INSERT_BATCH_ROWS)):
            data = "".join(csv_line([_csv_value(v) for v in row], null="\\N") for row in batch)
            self.execute(f"{header} SETTINGS input_format_csv_trim_whitespaces = 0 FORMAT CSV\n{data}")

    # --- publishing ---------------------------------------------------------------
    def swap_statements(self, pairs: Sequence[tuple[TableName, TableName]]) -> list[exp.Expression]:
        """Per table: create `final` empty if missing, EXCHANGE it with staging, drop staging.

        Each table is swapped atomically; the set is not (ClickHouse DDL commits per statement).
        """
        statements: list[exp.Expression] = []
        for staging, final in pairs:
            new, old = staging.to_table(), final.to_table()
            statements.append(exp.Create(this=old, kind="TABLE", exists=True, expression=new.copy()))
            statements.append(exp.Command(this="EXCHANGE", expression=exp.Literal.string(
                f"TABLES {quoted_sql(new, self.dialect_name)} AND {quoted_sql(old, self.dialect_name)}")))
            statements.append(exp.Drop(tables=[new.copy()], kind="TABLE", exists=True))
        return statements

    def run_publish(self, statements: Sequence[str], execute) -> None:
        """No rollback to try: ClickHouse DDL commits statement by statement. After a failure the
        runner drops this run's staging tables; each published table is old or new, whole."""
        for sql in statements:
            execute(sql)


def _csv_value(value: Any) -> Any:
    """Naive datetimes (UTC) to the microsecond, as ClickHouse's CSV reads them."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.isoformat(sep=" ", timespec="microseconds")
    return value


def _client(module: str):
    """One of the two clients, imported when a target uses it (chdb alone takes ~0.7 s to load);
    missing, it is a config error naming the extra, as the registry reports other clients."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        raise ConfigError(f"the clickhouse connector needs {e.name}, which is not installed",
                          hint="pip install 'journeyctl[clickhouse]'")
