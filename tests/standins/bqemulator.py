"""BigQuery stand-in: bqemulator (DuckDB-backed REST emulator), talked to by google-cloud-bigquery.

It runs from its own venv (it pins duckdb 1.5.5) and loads the spatial/avro DuckDB extensions
that .ci/standins.sh copied into ~/.duckdb; without them it would try to download them and fail.
Ports are chosen by the emulator itself (0) and read back from its JSON log: no port race.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from . import Standin, StandinNotInstalled, cache_dir, spawn, starting, wait_for, workdir

DUCKDB_VERSION = "v1.5.5"


@dataclass(kw_only=True)
class BigQueryStandin(Standin):
    project: str
    api_endpoint: str

    def connect_kwargs(self) -> dict:
        return {"project": self.project, "api_endpoint": self.api_endpoint}

    def client(self):
        """A real ``bigquery.Client`` pointed at the emulator with anonymous credentials."""
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        return bigquery.Client(
            project=self.project,
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=self.api_endpoint),
        )


def _rest_port(log: Path) -> int | None:
    for line in log.read_text(errors="replace").splitlines() if log.exists() else ():
        if '"rest.listen"' in line:
            return json.loads(line)["port"]
    return None


def _healthy(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/healthz", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def start_bigquery(project: str = "test-proj", timeout: float = 60) -> BigQueryStandin:
    exe = cache_dir() / "bqemulator" / "bin" / "bqemulator"
    ext = Path.home() / ".duckdb" / "extensions" / DUCKDB_VERSION / "linux_amd64"
    if not exe.exists():
        raise StandinNotInstalled(f"bqemulator ({exe})")
    missing = [e for e in ("spatial", "avro") if not (ext / f"{e}.duckdb_extension").exists()]
    if missing:
        raise StandinNotInstalled(f"DuckDB extensions {missing} for bqemulator (in {ext})")
    with starting() as cleanups:
        log = workdir("bqemulator", cleanups) / "server.log"
        # The venv's python runs the emulator through a shim (see _bqemulator_serve.py); -P
        # keeps this folder (whose bqemulator.py would shadow the package) off sys.path.
        python = exe.with_name("python")
        cmd = [python, "-P", Path(__file__).with_name("_bqemulator_serve.py"), "start", "--rest-port", 0, "--grpc-port", 0, "--project", project, "--log-format", "json"]
        proc = spawn(cmd, log, cleanups)
        port = wait_for(lambda: _rest_port(log), "bqemulator", proc, log, timeout)
        endpoint = f"http://127.0.0.1:{port}"
        wait_for(lambda: _healthy(endpoint), "bqemulator /healthz", proc, log, timeout)
    return BigQueryStandin(project=project, api_endpoint=endpoint, _cleanups=cleanups)
