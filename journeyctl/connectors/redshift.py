"""Redshift: redshift-connector, one statement per call, transactional DDL in autocommit mode."""

from __future__ import annotations

import redshift_connector
from redshift_connector.error import Error as RedshiftError

from journeyctl.connectors.base import CONCURRENT_DDL, Connector, Option
from journeyctl.errors import ConnectionFailed, ExecutionError

DEFAULT_PORT = 5439
DEFAULT_TIMEOUT = 30


class RedshiftConnector(Connector):
    """The base class's publish (BEGIN; DROP + RENAME per table; COMMIT) is right here:
    Redshift DDL is transactional, so readers see the old set of tables or the new one.

    The connection runs in autocommit mode, so BEGIN … COMMIT in the publish statements
    mean exactly what they say and every other statement commits on its own. (In
    redshift_connector's default mode the first execute silently opens a transaction
    that lasts until an explicit commit: the whole run, stages included, would become
    one transaction holding its locks throughout, and the publish's BEGIN a no-op.)
    """

    type = "redshift"
    dialect_name = "redshift"
    extra = "redshift"
    options = {
        "host": Option("cluster endpoint, e.g. examplecluster.abc123.us-west-2.redshift.amazonaws.com"),
        "port": Option(f"port (default {DEFAULT_PORT})", kinds=(int,)),
        "database": Option("database, e.g. dev"),
        "user": Option("database user (with iam: the db_user to get credentials for)"),
        "password": Option("password (use ${VAR} to read it from the environment)", secret=True),
        "iam": Option("authenticate with IAM (temporary credentials) instead of a password",
                      kinds=(bool,)),
        "cluster_identifier": Option("cluster name, with iam"),
        "region": Option("AWS region, with iam"),
        "profile": Option("AWS profile in ~/.aws/credentials, with iam"),
        "sslmode": Option("verify-ca (default) or verify-full"),
        "ssl": Option("use TLS (default true)", kinds=(bool,)),
        "timeout": Option(f"seconds to wait for the connection (default {DEFAULT_TIMEOUT})",
                          kinds=(int,)),
    }

    def describe(self) -> str:
        s = self.settings
        where = s.get("host") or s.get("cluster_identifier") or "?"
        port = f":{s.get('port', DEFAULT_PORT)}" if s.get("host") else ""
        database = f"/{s['database']}" if s.get("database") else ""
        user = f", user {s['user']}" if s.get("user") else ""
        return f"redshift target {self.target.name!r} ({where}{port}{database}{user})"

    # --- connection -------------------------------------------------------------
    def connect_args(self) -> dict:
        s = self.settings
        args = {k: s[k] for k in ("host", "database", "password", "iam", "cluster_identifier",
                                  "region", "profile", "sslmode", "ssl") if k in s}
        args["port"] = s.get("port", DEFAULT_PORT)
        if "user" in s:
            args["db_user" if s.get("iam") else "user"] = s["user"]
        args["timeout"] = s.get("timeout", DEFAULT_TIMEOUT)
        args["application_name"] = "journeyctl"
        return args

    def open(self) -> None:
        try:
            connection = redshift_connector.connect(**self.connect_args())
        except (RedshiftError, OSError, ValueError) as e:
            raise ConnectionFailed(
                f"cannot connect to {self.describe()}: {self.scrub(_message(e))}",
                hint=f"check host, port, database, user and password (or iam with cluster_identifier) "
                     f"in [targets.{self.target.name}], and that the cluster accepts connections "
                     "from this machine")
        connection.autocommit = True
        # `timeout` is the socket timeout of every read: keep it for connecting, not for
        # stages, which may rightly run longer than any connect timeout.
        sock = getattr(connection, "_usock", None)
        if sock is not None:
            sock.settimeout(None)
        self.connection = connection

    def close(self) -> None:
        if getattr(self, "connection", None) is not None:
            try:
                self.connection.close()
            except RedshiftError:
                pass
            self.connection = None

    def execute(self, sql: str) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(sql)

    def query(self, sql: str) -> list[tuple]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql)
            return [tuple(row) for row in cursor.fetchall()]

    def execution_error(self, error: Exception, sql: str, stage: str) -> ExecutionError:
        """Redshift's message (not the driver's field dict), its line from the error position."""
        fields = _fields(error)
        if not fields:
            return super().execution_error(error, sql, stage)
        message = _message(error)
        position = int(fields["P"]) if str(fields.get("P", "")).isdigit() else None
        concurrent = (fields.get("C") in CONCURRENT_DDL
                      or "serializable isolation violation" in message.lower())
        return self.server_error(stage, sql, message, position, concurrent)


def _fields(error: Exception) -> dict:
    """The server's ErrorResponse fields (S severity, C code, M message, D detail, P position)."""
    return error.args[0] if error.args and isinstance(error.args[0], dict) else {}


def _message(error: Exception) -> str:
    fields = _fields(error)
    if not fields.get("M"):
        if len(error.args) == 2 and isinstance(error.args[1], BaseException):
            # the driver's ('communication error', ConnectionRefusedError(…)) → its two parts
            return f"{error.args[0]}: {error.args[1]}"
        return str(error).strip()
    text = fields["M"] + (f" ({fields['C']})" if fields.get("C") else "")
    return text + (f"; {fields['D']}" if fields.get("D") else "")
