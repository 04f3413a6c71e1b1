"""Run one process and measure it; or, as a script, run the floor or the dbt baseline on DuckDB.

measure(argv): wall time and peak RSS of one child process (os.wait4 gives that child's own
rusage, so nothing else the parent started is counted), plus its stdout.

As a script it runs one job on a DuckDB file in this process and prints a JSON run summary in the same shape as `journeyctl run --format json`:
  {"target": "duckdb", "dialect": "duckdb", "seconds": total,
   "stages": [{"name": ..., "seconds": ..., "rows": ...}, ...]}
bench.py starts it in a fresh process per run and measures that process's wall time and RSS.

Usage: python benchmarks/runner.py {floor,baseline} --db events.duckdb [--memory-limit 2GB]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

BASELINE_DIR = Path(__file__).resolve().parent / "baseline_dbt"
# The five models of the dbt sample project, in dependency order.
BASELINE_MODELS = ("dbt_aliases_mapping", "dbt_mapped_tracks", "dbt_session_tracks",
                   "dbt_track_facts", "dbt_tracks_flow")
# The least any sessionization must do: one sort of all events per visitor.
FLOOR_SQL = ("SELECT *, LAG(timestamp) OVER (PARTITION BY COALESCE(user_id, anonymous_id) "
             "ORDER BY timestamp, id) AS previous_timestamp FROM tracks")
# {{ ref('x') }} / {{ source('s', 'x') }} -> x: the dbt models become plain DuckDB SQL.
DBT_CALL = re.compile(r"\{\{\s*(?:ref|source)\((?:[^)]*,)?\s*['\"](\w+)['\"]\s*\)\s*\}\}")


@dataclass
class Measured:
    seconds: float
    max_rss_mb: float
    stdout: str
    error: str | None  # None when the process exited 0


def measure(argv: list[str], cwd: Path | str | None = None, env: dict | None = None,
            timeout: float | None = None) -> Measured:
    """Run argv to completion; its wall time, peak RSS and stdout; killed after `timeout` s."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=cwd, env=env)
        timer = threading.Timer(timeout, proc.kill) if timeout else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        if timer:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    error = None
    if proc.returncode:
        tail = " | ".join(stderr.strip().splitlines()[-3:]) or "no stderr"
        error = f"exit {proc.returncode}: {tail}"
    return Measured(seconds, usage.ru_maxrss / 1024, stdout, error)


def baseline_sql(model: str) -> str:
    return DBT_CALL.sub(r"\1", (BASELINE_DIR / f"{model}.sql").read_text())


def stages(job: str) -> list[tuple[str, str]]:
    """(table name, SELECT) pairs that the job materialises, in order."""
    if job == "floor":
        return [("floor", FLOOR_SQL)]
    if job == "baseline":
        return [(model, baseline_sql(model)) for model in BASELINE_MODELS]
    raise ValueError(f"unknown job {job!r}")


def run(job: str, db: str, memory_limit: str | None = None, threads: int | None = None,
        temp_dir: str | None = None) -> dict:
    start = time.perf_counter()
    summary = {"target": "duckdb", "dialect": "duckdb", "seconds": None, "stages": []}
    with duckdb.connect(db) as con:
        for name, value in (("memory_limit", memory_limit), ("threads", threads),
                            ("temp_directory", temp_dir)):
            if value:
                con.execute(f"SET {name} = '{value}'")
        for table, select in stages(job):
            began = time.perf_counter()
            rows = con.execute(f"CREATE OR REPLACE TABLE {table} AS {select}").fetchone()[0]
            summary["stages"].append({"name": table, "seconds": time.perf_counter() - began,
                                      "rows": rows})
    summary["seconds"] = time.perf_counter() - start
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("job", choices=("floor", "baseline"))
    parser.add_argument("--db", required=True, help="DuckDB file holding a `tracks` table")
    parser.add_argument("--memory-limit", help="DuckDB memory_limit, e.g. 2GB")
    parser.add_argument("--threads", type=int, help="DuckDB threads")
    parser.add_argument("--temp-dir", help="DuckDB temp_directory for spilling")
    args = parser.parse_args()
    print(json.dumps(run(args.job, args.db, args.memory_limit, args.threads, args.temp_dir)))


if __name__ == "__main__":
    main()
