"""Run one process and measure it; or, as a script, run the floor, the dbt baseline or journeyctl's
rendered SQL on DuckDB, in a process that imports nothing but duckdb.

measure(argv): wall time and peak RSS of one child process (os.wait4 gives that child's own
rusage, so nothing else is counted), plus its stdout.

As a script it runs one job on a DuckDB file in this process and prints a JSON run summary
in the same shape as `journeyctl run --format json`:
  {"target": "duckdb", "dialect": "duckdb", "seconds": total,
   "stages": [{"name": ..., "seconds": ..., "rows": ..., "peak_rss_mb": ...}, ...]}
(peak_rss_mb: the process's peak RSS so far, read after the stage). bench.py starts it in a
fresh process per run and measures that process's wall time and RSS.

Usage: python benchmarks/runner.py {floor,floor-lag,floor-sessions,write-floor,baseline,journeyctl-sql} --db events.duckdb
       [--plan plan.json] [--memory-limit 2GB]
journeyctl-sql runs the plan `journeyctl render --dialect duckdb --format json` printed: the
same statements as `journeyctl run`, without journeyctl's own Python in the process.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

BASELINE_DIR = Path(__file__).resolve().parent / "baseline_dbt"
# The five models of the dbt sample project, in dependency order.
BASELINE_MODELS = ("dbt_aliases_mapping", "dbt_mapped_tracks", "dbt_session_tracks",
                   "dbt_track_facts", "dbt_tracks_flow")
# The least any sessionization must do: one sort of all events per visitor; `floor` carries every
# column through it, `floor-lag` only the ones a sessionization needs.
FLOOR_SQL = ("SELECT *, LAG(timestamp) OVER (PARTITION BY COALESCE(user_id, anonymous_id) "
             "ORDER BY timestamp, id) AS previous_timestamp FROM tracks")
FLOOR_LAG_SQL = ("SELECT id, anonymous_id, timestamp, LAG(timestamp) OVER (PARTITION BY "
                 "COALESCE(user_id, anonymous_id) ORDER BY timestamp, id) AS previous_timestamp "
                 "FROM tracks")
# The least an exact sessionization must do in SQL: the LAG window, then the running count of
# session starts over each visitor's numbered events. A window cannot nest in another, so this
# is a second sort (the one journey_events also does); each event is written with its session.
FLOOR_SESSIONS_SQL = """
WITH ordered AS (
  SELECT id, anonymous_id, COALESCE(user_id, anonymous_id) AS visitor, timestamp,
         ROW_NUMBER() OVER w AS visitor_event_number,
         DATE_DIFF('microsecond', LAG(timestamp) OVER w, timestamp) / 60000000.0 AS idle_minutes
  FROM tracks
  WINDOW w AS (PARTITION BY COALESCE(user_id, anonymous_id) ORDER BY timestamp, id)
)
SELECT id, anonymous_id, visitor, timestamp, idle_minutes,
       SUM(CASE WHEN idle_minutes IS NULL OR idle_minutes > 30 THEN 1 ELSE 0 END) OVER (
         PARTITION BY visitor ORDER BY visitor_event_number ROWS UNBOUNDED PRECEDING) AS session_number
FROM ordered"""
# The least any implementation of the contract must write: the three event-level tables' columns
# (dbt_tracks_flow with journey length 5), copied from the source with nothing computed.
VISITOR = "COALESCE(user_id, anonymous_id)"
WRITE_FLOOR = {
    "dbt_mapped_tracks": f"SELECT id AS event_id, anonymous_id, {VISITOR} AS dbt_visitor_id, timestamp, "
                         "event, 0.0 AS idle_time_minutes FROM tracks",
    "dbt_track_facts": f"SELECT anonymous_id, timestamp, id AS event_id, event, '1 - ' || {VISITOR} AS "
                       f"session_id, {VISITOR} AS dbt_visitor_id, 1 AS track_sequence_number FROM tracks",
    "dbt_tracks_flow": f"SELECT id AS event_id, '1 - ' || {VISITOR} AS session_id, 1 AS "
                       f"track_sequence_number, event, {VISITOR} AS dbt_visitor_id, timestamp, "
                       "event AS event_2, event AS event_3, event AS event_4, event AS event_5 FROM tracks",
}
FLOORS = {"floor": FLOOR_SQL, "floor-lag": FLOOR_LAG_SQL, "floor-sessions": FLOOR_SESSIONS_SQL}
# {{ ref('x') }} / {{ source('s', 'x') }} -> x: the dbt models become plain DuckDB SQL.
DBT_CALL = re.compile(r"\{\{\s*(?:ref|source)\((?:[^)]*,)?\s*['\"](\w+)['\"]\s*\)\s*\}\}")


@dataclass
class Measured:
    seconds: float
    max_rss_mb: float
    stdout: str
    error: str | None  # None when the process exited 0


# A child inherits the peak RSS of whoever forked it (Linux keeps it across exec), so the
# measured command is started from this tiny interpreter, not from the benchmark process:
# argv = [out_file, command...]; it writes "<wall seconds> <peak RSS KiB>" to out_file.
TIMER = """
import os, sys, time
out, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(out, "w") as f:
    f.write(f"{time.perf_counter() - start} {usage.ru_maxrss}")
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def measure(argv: list[str], cwd: Path | str | None = None, env: dict | None = None,
            timeout: float | None = None) -> Measured:
    """Run argv to completion: its wall time, peak RSS and stdout; killed after `timeout` s."""
    with tempfile.TemporaryDirectory(prefix="journeyctl-measure-") as tmp:
        files = {name: Path(tmp) / name for name in ("stdout", "stderr", "usage")}
        with open(files["stdout"], "wb") as out, open(files["stderr"], "wb") as err:
            proc = subprocess.Popen([sys.executable, "-S", "-c", TIMER, str(files["usage"]),
                                     *argv], stdout=out, stderr=err, cwd=cwd, env=env,
                                    start_new_session=True)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        stdout = files["stdout"].read_text(errors="replace")
        stderr = files["stderr"].read_text(errors="replace")
        usage = files["usage"].read_text().split() if files["usage"].exists() else []
    seconds, rss_kib = (float(usage[0]), float(usage[1])) if usage else (float(timeout or 0), 0.0)
    error = None
    if proc.returncode:
        tail = " | ".join(stderr.strip().splitlines()[-3:]) or "no stderr"
        error = f"timed out after {timeout} s" if not usage else f"exit {proc.returncode}: {tail}"
    return Measured(seconds, rss_kib / 1024, stdout, error)


def touch_memory(gigabytes: float) -> None:
    """Write one byte per page of that much memory, then free it. On a virtual machine whose host
    takes back the guest's free memory (a balloon), a process's first touch of memory costs far
    more than its work (2 GB: 5.4 s cold, 0.14 s warm); touching it before a timed run lets the
    run measure its own work. Jobs that use more memory pay more for a cold touch."""
    size = int(gigabytes * 2**30)
    pages = bytearray(size)
    pages[::4096] = b"\1" * len(range(0, size, 4096))


def baseline_sql(model: str) -> str:
    return DBT_CALL.sub(r"\1", (BASELINE_DIR / f"{model}.sql").read_text())


def stages(job: str, plan: str | None = None) -> list[tuple[str, str | None, list[str]]]:
    """(stage, table to count or None, statements) triples that the job runs, in order."""
    if job in FLOORS:
        return [(job, "floor", [f"CREATE OR REPLACE TABLE floor AS {FLOORS[job]}"])]
    if job == "baseline":
        return [(model, model, [f"CREATE OR REPLACE TABLE {model} AS {baseline_sql(model)}"])
                for model in BASELINE_MODELS]
    if job == "write-floor":
        return [(f"write {table}", table, [f"CREATE OR REPLACE TABLE {table} AS {sql}"])
                for table, sql in WRITE_FLOOR.items()]
    if job == "journeyctl-sql":
        return [(step["stage"], step.get("table"), step["sql"])
                for step in json.loads(Path(plan).read_text())]
    raise ValueError(f"unknown job {job!r}")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(job: str, db: str, memory_limit: str | None = None, threads: int | None = None,
        temp_dir: str | None = None, plan: str | None = None) -> dict:
    start = time.perf_counter()
    summary = {"target": "duckdb", "dialect": "duckdb", "seconds": None, "stages": []}
    with duckdb.connect(db) as con:
        for name, value in (("memory_limit", memory_limit), ("threads", threads),
                            ("temp_directory", temp_dir)):
            if value:
                con.execute(f"SET {name} = '{value}'")
        if job in ("journeyctl-sql", "write-floor"):  # as journeyctl's duckdb target sets them
            con.execute("SET disabled_compression_methods = 'dict_fsst'")
            con.execute("SET preserve_insertion_order = false")
        for stage, table, statements in stages(job, plan):
            began = time.perf_counter()
            for sql in statements:
                con.execute(sql)
            if table is None:  # journeyctl's setup and cleanup
                continue
            rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            summary["stages"].append({"name": stage, "seconds": time.perf_counter() - began,
                                      "rows": rows, "peak_rss_mb": round(peak_rss_mb())})
    summary["seconds"] = time.perf_counter() - start
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("job", choices=(*FLOORS, "write-floor", "baseline", "journeyctl-sql"))
    parser.add_argument("--db", required=True, help="DuckDB file holding a `tracks` table")
    parser.add_argument("--plan", help="journeyctl-sql: the JSON of `journeyctl render --format json`")
    parser.add_argument("--memory-limit", help="DuckDB memory_limit, e.g. 2GB")
    parser.add_argument("--threads", type=int, help="DuckDB threads")
    parser.add_argument("--temp-dir", help="DuckDB temp_directory for spilling")
    args = parser.parse_args()
    print(json.dumps(run(args.job, args.db, args.memory_limit, args.threads, args.temp_dir,
                         args.plan)))


if __name__ == "__main__":
    main()
