"""Snowflake stand-in: fakesnow's HTTP server, talked to by the unpatched snowflake connector.

The server runs under the fakesnow venv's python (its duckdb pin stays out of the test env).  Its
in-memory DuckDB is shared by every connection to the same server, and the database and schema
named at connect time are created on login.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import Standin, StandinNotInstalled, cache_dir, read_port, spawn, starting, wait_for, workdir


@dataclass(kw_only=True)
class SnowflakeStandin(Standin):
    host: str
    port: int
    protocol: str = "http"
    account: str = "fakesnow"
    user: str = "fake"
    password: str = "snow"
    database: str = "DEV"
    schema: str = "PUBLIC"
    # fakesnow answers SQL it cannot translate with HTTP 500, which the connector retries for
    # minutes unless network_timeout bounds the retrying (a single slow query is not cut short).
    network_timeout: int = 10

    def connect_kwargs(self) -> dict:
        """Arguments for ``snowflake.connector.connect(**kw)``; nothing is patched."""
        keys = ("host", "port", "protocol", "account", "user", "password", "database", "schema", "network_timeout")
        return {k: getattr(self, k) for k in keys}


def start_snowflake(database: str = "DEV", schema: str = "PUBLIC", timeout: float = 30) -> SnowflakeStandin:
    python = cache_dir() / "fakesnow" / "bin" / "python"
    if not python.exists():
        raise StandinNotInstalled(f"fakesnow server ({python})")
    with starting() as cleanups:
        log = workdir("fakesnow", cleanups) / "server.log"
        proc = spawn([python, Path(__file__).with_name("_fakesnow_serve.py")], log, cleanups)
        port = wait_for(lambda: read_port(log), "fakesnow server", proc, log, timeout)
    return SnowflakeStandin(host="127.0.0.1", port=port, database=database, schema=schema, _cleanups=cleanups)

