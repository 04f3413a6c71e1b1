"""Apache Spark through pyspark: an embedded local session, or a Spark Connect server (Databricks).

Local mode keeps tables in a persistent catalog (Hive metastore on embedded Derby in
`warehouse_dir`), so they outlive the session. Embedded Derby admits one JVM per
catalog, and a stopped session keeps it until the process exits: within one Python
process the connector reuses its session for the same settings, and a second process
on the same warehouse_dir is refused at open (exit 3), as DuckDB's file lock is.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar, Iterable, Sequence
from urllib.parse import urlsplit

# Before pyspark and grpc load: their chatter off. stderr is journeyctl's progress, and each
# failure is reported once, as journeyctl's error (pyspark would also log a failed query's SQL,
# secrets and all; grpc its TLS handshakes; pyspark warns about pandas 3 on import).
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
logging.getLogger("SQLQueryContextLogger").disabled = True
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
warnings.filterwarnings("ignore", message=r"\[RETRIES_EXCEEDED\]")  # the error itself says so

from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql.connect.client.retries import DefaultPolicy  # noqa: E402
from sqlglot import exp  # noqa: E402

from journeyctl.connectors.base import Connector, Option  # noqa: E402
from journeyctl.dialects import drop_table  # noqa: E402
from journeyctl.errors import ConfigError, ConnectionFailed  # noqa: E402
from journeyctl.names import SchemaName, TableName  # noqa: E402

DEFAULT_MASTER = "local[*]"
DEFAULT_WAREHOUSE = "spark-warehouse"
DEFAULT_CONNECT_PORT = 15002
DEFAULT_TIMEOUT = 30
_TOKEN = re.compile(r";\s*token=([^;]+)", re.IGNORECASE)
_DERBY_IN_USE = "Another instance of Derby may have already booted the database"
LOG_CONFIG = Path(__file__).with_name("spark_log4j2.properties")


class SparkConnector(Connector):
    type = "spark"
    dialect_name = "spark"
    extra = "spark"
    transactional_dml = False  # plain (parquet) tables: no DELETE, no transaction
    transactional_ddl = False
    max_concurrency = 1  # one session per process (a local catalog admits one); Spark parallelises within
    options = {
        "master": Option(f"Spark master of an embedded session (default {DEFAULT_MASTER})"),
        "remote": Option(f"Spark Connect URL, e.g. sc://host:{DEFAULT_CONNECT_PORT} (Databricks: its "
                         "sc:// URL; a ;token=… in it is kept secret)"),
        "warehouse_dir": Option(f"local only: folder of the tables and their catalog, relative to "
                                f"journeyctl.toml (default {DEFAULT_WAREHOUSE})"),
        "conf": Option("table of Spark settings; they win over journeyctl's own (catalog, metastore "
                       "URL, session time zone)", kinds=(dict,)),
        "timeout": Option(f"seconds to wait for a Spark Connect server (default {DEFAULT_TIMEOUT})",
                          kinds=(int, float)),
    }
    _local_sessions: ClassVar[dict[tuple, Any]] = {}
    """The embedded session of this process, by its settings (one SparkContext per process)."""

    def __init__(self, target):
        super().__init__(target)
        where = f"[targets.{target.name}]"
        if "remote" in self.settings:
            clash = [k for k in ("master", "warehouse_dir") if k in self.settings]
            if clash:
                raise ConfigError(f"{where} sets remote and {' and '.join(clash)}",
                                  hint="remote reaches a Spark Connect server, whose own catalog keeps "
                                       "the tables: drop master/warehouse_dir, or drop remote to run locally")
            if not self.settings["remote"].startswith("sc://"):
                raise ConfigError(f"{where} remote must be a Spark Connect URL (sc://host:port)")
        for key, value in self.settings.get("conf", {}).items():
            if isinstance(value, (dict, list)):
                raise ConfigError(f"{where} conf.{key} must be a string, number or boolean")
        self.single_writer = "remote" not in self.settings  # Derby: one process per warehouse_dir

    @property
    def secrets(self) -> list[str]:
        tokens = _TOKEN.findall(self.settings.get("remote", ""))
        return [*super().secrets, *tokens, *(str(v) for k, v in self.settings.get("conf", {}).items()
                                             if re.search(r"password|secret|token", k, re.I))]

    @property
    def warehouse(self) -> Path:
        return (self.target.base_dir / self.settings.get("warehouse_dir", DEFAULT_WAREHOUSE)).resolve()

    def describe(self) -> str:
        if "remote" in self.settings:
            return f"spark target {self.target.name!r} ({self.settings['remote'].split(';')[0].rstrip('/')})"
        return (f"spark target {self.target.name!r} ({self.settings.get('master', DEFAULT_MASTER)}, "
                f"warehouse {self.warehouse})")

    # --- connection -------------------------------------------------------------
    def spark_conf(self) -> dict[str, str]:
        """journeyctl's settings, then the target's `conf` over them."""
        ours = {"spark.sql.session.timeZone": "UTC"}  # naive timestamps are UTC
        if "remote" not in self.settings:
            w = self.warehouse
            ours |= {
                "spark.sql.catalogImplementation": "hive",
                "spark.sql.warehouse.dir": str(w),
                "spark.hadoop.javax.jdo.option.ConnectionURL":
                    f"jdbc:derby:;databaseName={w / 'metastore_db'};create=true",
                # a faster start for short sessions (C1 only: its 48 MB code cache filled in a
                # long session here, and the JVM died, hence 256 MB); Derby's log next to its
                # database, not in the cwd; no JVM logging on stderr (stdout/stderr are journeyctl's)
                "spark.driver.defaultJavaOptions": "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m "
                                                   "-XX:+UseSerialGC "
                                                   f"-Dderby.stream.error.file={w / 'derby.log'} "
                                                   f"-Dlog4j2.configurationFile={LOG_CONFIG}",
                # a catalog held by another process stays held: say so in seconds, not after 10 retries
                "spark.hadoop.hive.hmshandler.retry.attempts": "1",
                "spark.hadoop.hive.metastore.failure.retries": "1",
                "spark.ui.enabled": "false",
                "spark.ui.showConsoleProgress": "false",
            }
        user = {k: str(v).lower() if isinstance(v, bool) else str(v)
                for k, v in self.settings.get("conf", {}).items()}
        return ours | user

    def open(self) -> None:
        conf = self.spark_conf()
        try:
            if "remote" in self.settings:
                self.session = self._remote_session(conf)
            else:
                self.session = self._local_session(conf)
                self.session.catalog.databaseExists("default")  # boots the catalog (Derby's lock)
        except ConnectionFailed:
            raise
        except Exception as e:  # pyspark's and py4j's errors have no common base
            raise self._connection_failed(e)

    def _remote_session(self, conf: dict[str, str]):
        """A Spark Connect session of its own, reached within `timeout`: a closed port fails at
        once, and the client's retries (minutes, by default) are bounded while connecting."""
        timeout = float(self.settings.get("timeout", DEFAULT_TIMEOUT))
        url = urlsplit(self.settings["remote"].split(";")[0].replace("sc://", "http://", 1))
        try:
            socket.create_connection((url.hostname, url.port or DEFAULT_CONNECT_PORT), timeout=timeout).close()
        except OSError as e:
            raise self._connection_failed(e)
        session = SparkSession.builder.remote(self.settings["remote"]).create()
        usual = session.client.get_retry_policies()
        session.client.set_retry_policies([DefaultPolicy(max_retries=4, max_backoff=int(timeout * 250))])
        try:
            for key, value in conf.items():  # also the first request: proves the server answers
                session.conf.set(key, value)
        except Exception:
            session.client.close()  # no release request retried for minutes at exit
            raise
        session.client.set_retry_policies(usual)
        return session

    def _local_session(self, conf: dict[str, str]):
        """This process's embedded session for these settings; another's is stopped first
        (static settings such as the catalog cannot change on a running session)."""
        key = (self.settings.get("master", DEFAULT_MASTER), tuple(sorted(conf.items())))
        if key not in self._local_sessions:
            for other in self._local_sessions.values():
                other.stop()
            self._local_sessions.clear()
            self.warehouse.mkdir(parents=True, exist_ok=True)
            # pyspark marks the whole process as Spark Connect once a remote session was made
            # (an environment variable it never clears): an embedded session asked for later in
            # the same process (a notebook or a scheduler using both kinds of target) must not
            # inherit that mark.
            os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)
            builder = SparkSession.builder.master(key[0]).appName("journeyctl").config(map=conf)
            session = builder.getOrCreate()
            session.sparkContext.setLogLevel("OFF")
            self._local_sessions[key] = session
        return self._local_sessions[key]

    def _connection_failed(self, error: Exception) -> ConnectionFailed:
        cause = error.__cause__ or error.__context__ or error
        message = cause.details() if callable(getattr(cause, "details", None)) else str(error)  # gRPC's
        text = self.scrub(message.strip().splitlines()[0] if message.strip() else repr(error))
        if _DERBY_IN_USE in str(error) + str(getattr(error, "_stackTrace", "")):  # the JVM's causes
            return ConnectionFailed(
                f"the Spark warehouse {self.warehouse} is in use by another process: its catalog "
                "(embedded Derby) admits one process at a time",
                hint="wait for the other run (or program) to finish with it, then run again")
        if "JAVA_GATEWAY_EXITED" in str(error) or "JAVA_HOME" in str(error):
            return ConnectionFailed(f"cannot start Spark for {self.describe()}: {text}",
                                    hint="Spark needs Java 17: apt-get install openjdk-17-jre-headless")
        return ConnectionFailed(
            f"cannot connect to {self.describe()}: {text}",
            hint=f"check remote in [targets.{self.target.name}] and that the Spark Connect server is "
                 "running and reachable" if "remote" in self.settings else
                 f"check master, warehouse_dir and conf in [targets.{self.target.name}]")

    def close(self) -> None:
        """A Spark Connect session ends; the embedded one stays for this process's next connector."""
        session = getattr(self, "session", None)
        if session is not None and "remote" in self.settings:
            session.stop()
        self.session = None

    # --- statements -------------------------------------------------------------
    def execute(self, sql: str) -> None:
        self.session.sql(sql).collect()

    def query(self, sql: str) -> list[tuple]:
        """Rows through Arrow: TIMESTAMPs as instants (naive UTC here), not the process zone's wall clock."""
        table = self.session.sql(sql).toArrow()
        columns = [[_naive_utc(v) for v in column.to_pylist()] for column in table.columns]
        return list(zip(*columns))

    def insert_rows(self, table: TableName, columns: Sequence[tuple[str, str]],
                    rows: Iterable[Sequence[Any]]) -> None:
        """As the base class, a naive datetime taken as UTC (the contract), whatever the session zone."""
        super().insert_rows(table, columns, ([_aware_utc(v) for v in row] for row in rows))

    # --- tables -----------------------------------------------------------------
    def columns(self, table: TableName) -> dict[str, str] | None:
        """From DESCRIBE (Spark has no information_schema); None when the table does not exist."""
        if not self._exists(table):
            return None
        rows = self.session.sql(self.render(exp.Describe(this=table.to_table()))).collect()
        columns = {}
        for name, kind, *_ in rows:
            if not name or name.startswith("#"):  # partition and detail sections follow a blank row
                break
            columns[name.lower()] = kind.upper()
        return columns

    def _exists(self, table: TableName) -> bool:
        return self.session.catalog.tableExists(self.render(table.to_table()))

    def tables_in_schema(self, schema: SchemaName) -> list[TableName]:
        return [schema.table(t.name) for t in self._list(schema) if not t.isTemporary]

    def views_in_schema(self, schema: SchemaName) -> list[str]:
        return [t.name for t in self._list(schema) if not t.isTemporary and t.tableType == "VIEW"]

    def _list(self, schema: SchemaName) -> list:
        name = self.render(schema.to_table())  # the catalog API parses names as the SQL does
        return self.session.catalog.listTables(name) if self.session.catalog.databaseExists(name) else []

    # --- publishing ---------------------------------------------------------------
    def swap_statements(self, pairs: Sequence[tuple[TableName, TableName]]) -> list[exp.Expression]:
        """Per table, `DROP TABLE final` then `ALTER TABLE staging RENAME TO final`, one table
        after the other: Spark has no multi-statement transaction. A reader sees each table
        old or new (or, between its two statements, briefly missing); a failure part-way
        leaves the tables before it new and the rest old, and the run fails (exit 4)."""
        statements: list[exp.Expression] = []
        for staging, final in pairs:
            statements.append(drop_table(final.to_table()))
            statements.append(exp.Alter(this=staging.to_table(), kind="TABLE",
                                        actions=[exp.AlterRename(this=final.to_table())]))
        return statements

    def run_publish(self, statements: Sequence[str], execute) -> None:
        """No transaction, so nothing to roll back."""
        for sql in statements:
            execute(sql)


def _aware_utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def _naive_utc(value: Any) -> Any:
    if getattr(value, "tzinfo", None) is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value
