"""Offline stand-ins for the three warehouses, each driven by its *real* Python client.

Each ``start_*`` function launches the engine as a subprocess on a free 127.0.0.1 port, waits until
it answers, and returns a dataclass holding the connection facts a journeyctl target would use
(``connect_kwargs()``) plus ``stop()``.  Engines live outside the test env (see
``bash .ci/standins.sh``) so their own duckdb/sqlglot pins cannot fight the product's.
"""

from __future__ import annotations

import atexit
import ctypes
import importlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

INSTALL_HINT = "bash .ci/standins.sh"


class StandinNotInstalled(RuntimeError):
    """The engine is missing on this machine; the message names the install command."""

    def __init__(self, what: str):
        super().__init__(f"{what} is not installed; run `{INSTALL_HINT}` (cache: {cache_dir()})")


class StandinFailed(RuntimeError):
    """The engine is installed but did not come up; the message carries its log tail."""


def cache_dir() -> Path:
    """Where .ci/standins.sh installs the engines (same default as the script)."""
    return Path(os.environ.get("JOURNEYCTL_STANDINS") or Path.home() / ".cache" / "journeyctl-standins")


@dataclass(kw_only=True)
class Standin:
    """A running stand-in; ``stop()`` is idempotent and also runs at interpreter exit."""

    _cleanups: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        atexit.register(self.stop)

    def stop(self) -> None:
        while self._cleanups:
            try:
                self._cleanups.pop()()
            except Exception:  # cleanup is best effort; keep stopping the rest
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def free_port() -> int:
    """A currently free 127.0.0.1 port (only for engines that cannot bind port 0 themselves)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def spawn(cmd: list, log: Path, cleanups: list, stop_signal: int = signal.SIGTERM, **kwargs) -> subprocess.Popen:
    """Start ``cmd`` with stdout+stderr to ``log``; register a signal-then-kill cleanup.

    The child also gets ``stop_signal`` when the thread that started it dies (PR_SET_PDEATHSIG), so
    a killed test run (timeout, SIGKILL) leaves no orphan servers behind; atexit can't cover that.
    """
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [str(c) for c in cmd], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            preexec_fn=lambda: _libc.prctl(_PR_SET_PDEATHSIG, int(stop_signal)), **kwargs,
        )
    cleanups.append(lambda: terminate(proc, stop_signal))
    return proc


def terminate(proc: subprocess.Popen, sig: int = signal.SIGTERM, grace: float = 10) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def tail(log: Path, n: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def wait_for(probe: Callable[[], object], what: str, proc: subprocess.Popen, log: Path, timeout: float):
    """Poll ``probe`` until it returns a truthy value; fail fast if ``proc`` dies, with its log."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if proc.poll() is not None:
            raise StandinFailed(f"{what} exited with code {proc.returncode}; log {log}:\n{tail(log)}")
        if time.monotonic() > deadline:
            raise StandinFailed(f"{what} not ready after {timeout:.0f}s; log {log}:\n{tail(log)}")
        time.sleep(0.05)


def read_port(log: Path, pattern: str = r"^PORT (\d+)$") -> int | None:
    """The port a child printed to its log, if it has yet."""
    m = re.search(pattern, log.read_text(errors="replace") if log.exists() else "", re.MULTILINE)
    return int(m.group(1)) if m else None


@contextmanager
def starting():
    """Collect cleanups while a stand-in starts; run them (newest first) if starting fails."""
    cleanups: list[Callable[[], None]] = []
    try:
        yield cleanups
    except BaseException:
        for cleanup in reversed(cleanups):
            cleanup()
        raise


def workdir(prefix: str, cleanups: list) -> Path:
    path = Path(tempfile.mkdtemp(prefix=f"journeyctl-{prefix}-"))
    cleanups.append(lambda: shutil.rmtree(path, ignore_errors=True))
    return path


def missing(reason: str):
    """SKIP locally, FAIL under CI=true: CI installs the engines, so a gap there is a broken pipeline."""
    import pytest

    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def start_or_skip(starter: Callable[[], Standin]) -> Standin:
    """Run ``starter``; a missing engine goes through ``missing``."""
    try:
        return starter()
    except StandinNotInstalled as exc:
        reason = str(exc)
    missing(reason)  # outside the except: no chained traceback in the report


def import_client(module: str):
    """Import a warehouse client (e.g. ``redshift_connector``) under the same skip/fail policy."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        reason = f"{module} is not installed in the test env ({exc}); pip install -e '.[test]'"
    missing(reason)


from .bqemulator import BigQueryStandin, start_bigquery  # noqa: E402
from .clickhouse import ClickHouseStandin, start_clickhouse  # noqa: E402
from .fakesnow_server import SnowflakeStandin, start_snowflake  # noqa: E402
from .postgres import PostgresStandin, RedshiftStandin, start_postgres, start_redshift  # noqa: E402
from .spark import SparkStandin, spark_installed, start_spark  # noqa: E402

__all__ = [
    "INSTALL_HINT",
    "StandinFailed",
    "StandinNotInstalled",
    "import_client",
    "missing",
    "start_or_skip",
    "BigQueryStandin",
    "PostgresStandin",
    "RedshiftStandin",
    "SnowflakeStandin",
    "SparkStandin",
    "spark_installed",
    "start_bigquery",
    "start_postgres",
    "ClickHouseStandin",
    "start_clickhouse",
    "start_redshift",
    "start_snowflake",
    "start_spark",
]
