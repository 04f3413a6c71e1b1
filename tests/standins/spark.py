"""Spark stand-in: a real Spark (pyspark, Java 17) serving Spark Connect, as a cluster or
Databricks would; journeyctl's `remote` targets talk to it with the unpatched client.

Local (`master`) targets need no stand-in: tests/test_connectors_spark.py runs them in-process.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from . import Standin, StandinNotInstalled, free_port, read_port, spawn, starting, wait_for, workdir


@dataclass(kw_only=True)
class SparkStandin(Standin):
    remote: str
    """The Spark Connect URL, sc://127.0.0.1:PORT."""
    warehouse: Path


def spark_installed() -> None:
    """Raise StandinNotInstalled unless pyspark and a Java runtime are here."""
    if importlib.util.find_spec("pyspark") is None:
        raise StandinNotInstalled("pyspark (pip install -e '.[test]')")
    if shutil.which("java") is None:
        raise StandinNotInstalled("Java 17 (bash .ci/spark.sh: apt-get install openjdk-17-jre-headless)")


def start_spark(timeout: float = 120) -> SparkStandin:
    spark_installed()
    with starting() as cleanups:
        warehouse = workdir("spark", cleanups)
        log = warehouse / "server.log"
        port = free_port()
        proc = spawn([sys.executable, Path(__file__).with_name("_spark_connect_serve.py"), warehouse, port],
                     log, cleanups)
        wait_for(lambda: read_port(log), "Spark Connect server", proc, log, timeout)
    return SparkStandin(remote=f"sc://127.0.0.1:{port}", warehouse=warehouse, _cleanups=cleanups)
