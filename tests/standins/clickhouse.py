"""ClickHouse server stand-in: `_chdb_http_serve.py`, ClickHouse's HTTP interface over chdb.

Debian's clickhouse-server (18.16) has no window functions, so the server path is proved against
the real engine (chdb, ClickHouse 26.9) behind a small HTTP front that clickhouse-connect talks to
unpatched. Runs under the test env's python (chdb is in journeyctl's clickhouse extra).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from . import Standin, import_client, read_port, spawn, starting, wait_for, workdir


@dataclass(kw_only=True)
class ClickHouseStandin(Standin):
    host: str
    port: int
    user: str = "default"
    password: str = "ch-standin-pw"

    def connect_kwargs(self) -> dict:
        """Arguments for ``clickhouse_connect.get_client(**kw)``."""
        return {"host": self.host, "port": self.port, "username": self.user, "password": self.password}


def start_clickhouse(zone: str = "UTC", timeout: float = 30) -> ClickHouseStandin:
    """The front on a free port; `zone` is the server's time zone (its process's TZ)."""
    import_client("chdb")
    with starting() as cleanups:
        folder = workdir("chdb-http", cleanups)
        log = folder / "server.log"
        proc = spawn([sys.executable, Path(__file__).with_name("_chdb_http_serve.py"), folder / "data",
                      ClickHouseStandin.password], log, cleanups, env=os.environ | {"TZ": zone})
        port = wait_for(lambda: read_port(log), "chdb HTTP front", proc, log, timeout)
    return ClickHouseStandin(host="127.0.0.1", port=port, _cleanups=cleanups)
