"""Throw-away PostgreSQL clusters: the PostgreSQL engine itself, and the Redshift stand-in
(PostgreSQL behind ``redshift_proxy``).

Why each setting: initdb/postgres refuse to run as root, so as root they run as the ``postgres``
OS user; ``--locale=C`` makes sorting deterministic; ``fsync=off`` etc. make it fast. The
PostgreSQL stand-in runs its sessions in America/New_York (not UTC), so every test on it also
proves that no result depends on the session's time zone. For Redshift: TZ UTC, and the login role
has an *md5* password because redshift_connector mis-parses SCRAM's mechanism list; the stock
driver connects to the proxy (``port``); ``pg_port`` is PostgreSQL itself, for seeding or
inspecting with psycopg/psql without the Redshift shims.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import (
    Standin,
    StandinFailed,
    StandinNotInstalled,
    free_port,
    read_port,
    spawn,
    starting,
    wait_for,
    workdir,
)
from .redshift_proxy import SETUP_SQL

USER, PASSWORD, DATABASE = "awsuser", "Standin-pw1", "dev"  # Redshift's customary admin user and db
PG_USER, PG_PASSWORD, PG_DATABASE = "journeyctl", "Standin-pg-pw2", "analytics"
PG_TIMEZONE = "America/New_York"


@dataclass(kw_only=True)
class PostgresStandin(Standin):
    host: str
    port: int
    database: str = PG_DATABASE
    user: str = PG_USER
    password: str = PG_PASSWORD
    timezone: str = PG_TIMEZONE
    """The sessions' default TimeZone."""

    def connect_kwargs(self) -> dict:
        """Arguments for ``psycopg.connect(**kw)``."""
        return {"host": self.host, "port": self.port, "dbname": self.database, "user": self.user,
                "password": self.password}


@dataclass(kw_only=True)
class RedshiftStandin(Standin):
    host: str
    port: int  # the proxy: use this with redshift_connector
    database: str = DATABASE
    user: str = USER
    password: str = PASSWORD
    ssl: bool = False
    pg_port: int  # PostgreSQL itself, no shims

    def connect_kwargs(self) -> dict:
        """Arguments for ``redshift_connector.connect(**kw)``."""
        keys = ("host", "port", "database", "user", "password", "ssl")
        return {k: getattr(self, k) for k in keys}


def pg_bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    initdb = found[-1] if found else shutil.which("initdb")
    if not initdb:
        raise StandinNotInstalled("PostgreSQL server (initdb)")
    return Path(initdb).parent


def _start_cluster(name: str, cleanups: list, timeout: float, auth: str = "scram-sha-256", **settings: str) -> tuple[int, Callable[..., None], Path]:
    """initdb + postgres (``settings`` as -c options) on a free port: its port, a
    ``psql(*args, stdin=)`` as the superuser, and its work dir (logs, socket)."""
    bindir = pg_bindir()
    as_pg = {"user": "postgres", "group": "postgres", "extra_groups": []} if os.geteuid() == 0 else {}
    tmp = workdir(name, cleanups)
    if as_pg:
        shutil.chown(tmp, "postgres", "postgres")
    log, data = tmp / "postgres.log", tmp / "data"

    def run(*cmd: str, stdin: str | None = None) -> None:
        r = subprocess.run(cmd, input=stdin, capture_output=True, text=True, cwd=tmp, **as_pg)
        if r.returncode:
            raise StandinFailed(f"{' '.join(cmd[:3])} failed ({r.returncode}):\n{r.stdout}{r.stderr}")

    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--locale=C", "-E", "UTF8",
        "--auth-local=trust", f"--auth-host={auth}", "--no-sync")
    options = [a for k, v in {"listen_addresses": "127.0.0.1", "fsync": "off", "synchronous_commit": "off",
                              "full_page_writes": "off", **settings}.items() for a in ("-c", f"{k}={v}")]
    for _attempt in range(3):  # free_port() can race with another process; retry on a clash
        pg_port = free_port()
        proc = spawn([bindir / "postgres", "-D", data, "-p", pg_port, "-k", tmp, *options],
                     log, cleanups, signal.SIGINT, cwd=tmp, env={**os.environ, "TZ": "UTC"}, **as_pg)  # SIGINT = fast shutdown
        psql = [str(bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(tmp), "-p", str(pg_port), "-U", "postgres"]
        ready = lambda: subprocess.run([*psql, "-c", "SELECT 1"], capture_output=True, **as_pg).returncode == 0  # noqa: E731
        try:
            wait_for(ready, "PostgreSQL", proc, log, timeout)
            break
        except StandinFailed:
            if proc.poll() is None or "Address already in use" not in log.read_text(errors="replace"):
                raise
    return pg_port, lambda *args, stdin=None: run(*psql, *args, stdin=stdin), tmp


def start_postgres(timeout: float = 30) -> PostgresStandin:
    """Stock PostgreSQL for the postgres target: a SCRAM login role (superuser) and its database."""
    with starting() as cleanups:
        port, psql, _ = _start_cluster("postgres", cleanups, timeout, TimeZone=PG_TIMEZONE)
        psql("-d", "postgres", "-c", f"CREATE ROLE {PG_USER} LOGIN SUPERUSER PASSWORD '{PG_PASSWORD}'",
             "-c", f"CREATE DATABASE {PG_DATABASE} OWNER {PG_USER}")
    return PostgresStandin(host="127.0.0.1", port=port, _cleanups=cleanups)


def start_redshift(timeout: float = 30) -> RedshiftStandin:
    with starting() as cleanups:
        # Redshift reads backslash escapes in literals, as sqlglot's redshift output expects.
        pg_port, psql, tmp = _start_cluster("redshift", cleanups, timeout, auth="md5", TimeZone="UTC",
                                            password_encryption="md5", standard_conforming_strings="off")
        md5 = "md5" + hashlib.md5((PASSWORD + USER).encode()).hexdigest()
        psql("-d", "postgres", "-c", f"CREATE ROLE {USER} LOGIN SUPERUSER PASSWORD '{md5}'",
             "-c", f"CREATE DATABASE {DATABASE} OWNER {USER}")
        psql("-d", DATABASE, stdin=SETUP_SQL)

        plog = tmp / "proxy.log"
        proxy = spawn([sys.executable, Path(__file__).with_name("redshift_proxy.py"), "--upstream-port", pg_port], plog, cleanups)
        port = wait_for(lambda: read_port(plog), "redshift proxy", proxy, plog, timeout)
    return RedshiftStandin(host="127.0.0.1", port=port, pg_port=pg_port, _cleanups=cleanups)
