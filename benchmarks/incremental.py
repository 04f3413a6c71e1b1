"""Incremental run vs full rebuild on DuckDB, whole process: a skewed history that an incremental
run has already processed, plus a batch of new events (default 10k: 5% late events inside
visitors' processed history, 3% identifies re-mapping old anonymous ids, 2% re-delivered copies,
45% events of returning devices, 45% of new ones; devices are drawn alike, whatever their size). Prints a markdown table; --results appends it to a file.

On a virtual machine whose host takes back the guest's free memory (a balloon), the first touch
of memory costs far more than the work: here 2 GB took 5.4 s to touch the first time and 0.14 s
the next. Each timed run copies a multi-GB database, so the memory a run is then given may be
cold. --warm-memory GB touches that much memory (and frees it) before every timed run, full and
incremental alike, so both measure their own work; report it beside the plain numbers.

Each layout (--layouts views,tables) has its own prepared database, built in that layout.

Example: python benchmarks/incremental.py --sizes 2M,10M --runs 3 --results benchmarks/RESULTS.md
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import duckdb

import generate
import render_speed
from runner import measure, touch_memory

HERE = Path(__file__).resolve().parent

# Each kind of new event as (share, SELECT over `s`, one processed row of each sampled device, so
# devices are drawn alike whatever their size). `$latest` is the history's latest timestamp.
NEW_EVENTS = {
    "late": (0.05, "SELECT 'late-' || s.id AS id, s.anonymous_id, s.user_id, "
                   "s.timestamp + INTERVAL 1 SECOND AS timestamp, 'Late Event' AS event"),
    "identify": (0.03, "SELECT 'identify-' || s.id AS id, s.anonymous_id, "
                       "'bench-user-' || s.id AS user_id, $latest + INTERVAL 5 MINUTE AS timestamp, "
                       "'Logged In' AS event"),
    "redelivered": (0.02, "SELECT s.id, s.anonymous_id, s.user_id, s.timestamp, s.event"),
    "returning": (0.45, "SELECT 'returning-' || s.id AS id, s.anonymous_id, s.user_id, "
                        "$latest + INTERVAL 10 MINUTE AS timestamp, s.event"),
    "new visitor": (0.45, "SELECT 'new-' || s.id AS id, 'new-device-' || s.id AS anonymous_id, "
                          "NULL AS user_id, $latest + INTERVAL 10 MINUTE AS timestamp, s.event"),
}


def add_new_events(db: Path, count: int, seed: int) -> None:
    """Append `count` new rows to db's tracks table, all received one hour after the history."""
    con = duckdb.connect(str(db))
    received, latest = con.execute("SELECT max(received_at), max(timestamp) FROM tracks").fetchone()
    con.execute("CREATE TEMP TABLE devices AS SELECT DISTINCT ON (anonymous_id) * FROM tracks "
                "WHERE anonymous_id IS NOT NULL ORDER BY anonymous_id, timestamp, id")
    for salt, (kind, (share, select)) in enumerate(NEW_EVENTS.items()):
        n = round(count * share)
        where = "WHERE user_id IS NULL" if kind == "identify" else ""
        sql = select.replace("$latest", f"TIMESTAMP '{latest}'")
        con.execute(f"""
            INSERT INTO tracks BY NAME
            SELECT *, TIMESTAMP '{received}' + INTERVAL 1 HOUR AS received_at
            FROM ({sql} FROM (SELECT * FROM devices {where}) AS s
                  USING SAMPLE reservoir({n} ROWS) REPEATABLE ({seed + salt}))""")
    con.close()


def config(db: Path, layout: str) -> str:
    return "\n".join(['default_target = "bench"', "[pipeline]", 'source = "tracks"',
                      'schema = "journey"', f"layout = {json.dumps(layout)}", "[targets.bench]", 'type = "duckdb"',
                      f"path = {json.dumps(str(db))}", 'memory_limit = "2GB"']) + "\n"


def journeyctl(work: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "journeyctl", "--config", str(work / "journeyctl.toml"), "run",
            "--format", "json", *args]


def prepared(rows: int, new: int, seed: int, work: Path, layout: str) -> Path:
    """A database whose history an incremental run has processed, with the new events loaded."""
    events, _ = generate.ensure(rows, "skewed", seed)
    db = work / f"prepared-{layout}.duckdb"
    shutil.copyfile(events, db)
    (work / "journeyctl.toml").write_text(config(db, layout))
    first = measure(journeyctl(work, "--incremental"), cwd=work, env=render_speed.journeyctl_env())
    if first.error:
        raise SystemExit(f"first incremental build failed: {first.error}")
    print(f"{rows:,} {layout}: first build (records state) {first.seconds:.1f} s", file=sys.stderr)
    add_new_events(db, new, seed)
    return db


def time_run(prepared_db: Path, layout: str, args: tuple[str, ...], warm_memory: float = 0) -> dict:
    with tempfile.TemporaryDirectory(prefix="journeyctl-bench-inc-") as tmp:
        work = Path(tmp)
        db = work / "events.duckdb"
        shutil.copyfile(prepared_db, db)
        os.sync()  # the copy's writeback is setup: flushed before the timed run, not during it
        touch_memory(warm_memory)
        (work / "journeyctl.toml").write_text(config(db, layout))
        run = measure(journeyctl(work, *args), cwd=work, env=render_speed.journeyctl_env())
    if run.error:
        raise SystemExit(f"journeyctl run {' '.join(args)} failed: {run.error}")
    return {"seconds": run.seconds, "rss": run.max_rss_mb, "summary": json.loads(run.stdout)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="2M,10M")
    parser.add_argument("--new", type=int, default=10_000, help="new events per batch")
    parser.add_argument("--runs", type=int, default=3, help="runs of each; the median is reported")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--layouts", default="views,tables", help="layouts to measure, each in turn")
    parser.add_argument("--results", type=Path, help="append the table to this markdown file")
    parser.add_argument("--warm-memory", type=float, default=0, metavar="GB",
                        help="touch this much memory before every timed run (default 0: none)")
    args = parser.parse_args()
    warmed = f", {args.warm_memory:g} GB of memory touched before each run" if args.warm_memory else ""
    lines = [f"\n### Incremental runs ({datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, "
             f"{os.cpu_count()} cores, memory_limit 2GB{warmed}, median of {args.runs})\n",
             "| history | layout | new events | full rebuild s | incremental s | speed-up "
             "| peak RSS full / inc MiB | rows read | events changed | visitors affected "
             "| rows removed → written (published tables) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for size in args.sizes.split(","):
        rows = generate.parse_size(size)
        for layout in args.layouts.split(","):
            lines.append(measure_layout(rows, layout, args))
    text = "\n".join(lines) + "\n"
    print(text)
    if args.results:
        with args.results.open("a") as out:
            out.write(text)


def measure_layout(rows: int, layout: str, args: argparse.Namespace) -> str:
    """Full rebuilds and incremental runs interleaved on one prepared database; the table row."""
    with tempfile.TemporaryDirectory(prefix="journeyctl-bench-inc-prep-") as tmp:
        db = prepared(rows, args.new, args.seed, Path(tmp), layout)
        full, inc = [], []
        for n in range(args.runs):  # interleaved, so the machine's drift moves both alike
            full.append(time_run(db, layout, (), args.warm_memory))
            inc.append(time_run(db, layout, ("--incremental",), args.warm_memory))
            print(f"{rows:,} {layout} run {n + 1}: full {full[-1]['seconds']:.2f} s, "
                  f"incremental {inc[-1]['seconds']:.2f} s", file=sys.stderr)
    full.sort(key=lambda r: r["seconds"])
    inc.sort(key=lambda r: r["seconds"])
    f, i = full[len(full) // 2], inc[len(inc) // 2]
    s = i["summary"]["incremental"]
    removed = sum(t["removed"] for t in s["rows_replaced"].values())
    written = sum(t["written"] for t in s["rows_replaced"].values())
    line = (f"| {rows:,} skewed | {layout} | {args.new:,} | {f['seconds']:.2f} | {i['seconds']:.2f} | "
            f"{f['seconds'] / i['seconds']:.1f}× | {f['rss']:.0f} / {i['rss']:.0f} | "
            f"{s['rows_read']:,} | {s['events_changed']:,} | {s['visitors_affected']:,} | "
            f"{removed:,} → {written:,} |")
    print(line, file=sys.stderr)
    return line

if __name__ == "__main__":
    main()
