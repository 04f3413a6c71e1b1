"""`journeyctl paths` on DuckDB against the LAG floor, whole process: the default paths (no anchor),
a --start path and a --start --end path over the journey tables of a skewed history, each set
against the LAG floor (one LAG window over every event, written to a table) in the same rounds.

The journey tables are built once per size (not timed); every timed command is a fresh process on
the same database (paths only read it; the floor replaces its own table). Rounds interleave the
commands so that the machine's drift moves all alike; the median seconds of --runs are reported
with the peak RSS of that run, and the median (and range) of each round's ratio to that round's
floor. Prints a markdown table; --results appends it to a file.

Example: python benchmarks/analysis_paths.py --sizes 2M,10M --runs 5 --results benchmarks/RESULTS.md
"""
from __future__ import annotations

import argparse
import datetime
import os
import shutil
import sys
import tempfile
from pathlib import Path

import generate
import render_speed
from incremental import config
from runner import measure

HERE = Path(__file__).resolve().parent
CASES = {
    "paths (no anchor)": (),
    "paths --start product_viewed": ("--start", "product_viewed"),
    "paths --start cart_viewed --end order_completed": ("--start", "cart_viewed", "--end", "order_completed"),
}
"""The timed commands (generate.py's event names), as `journeyctl paths` arguments."""


def floor(db: Path) -> list[str]:
    return [sys.executable, str(HERE / "runner.py"), "floor-lag", "--db", str(db), "--memory-limit", "2GB"]


def paths(work: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "journeyctl", "--config", str(work / "journeyctl.toml"), "paths",
            "--format", "json", *args]


def built(rows: int, seed: int, work: Path) -> Path:
    """A copy of the skewed history with the journey tables built on it."""
    events, _ = generate.ensure(rows, "skewed", seed)
    db = work / "events.duckdb"
    shutil.copyfile(events, db)
    (work / "journeyctl.toml").write_text(config(db))
    run = measure([sys.executable, "-m", "journeyctl", "--config", str(work / "journeyctl.toml"), "run"],
                  cwd=work, env=render_speed.journeyctl_env())
    if run.error:
        raise SystemExit(f"building the journey tables failed: {run.error}")
    print(f"{rows:,}: journey tables built in {run.seconds:.1f} s (not timed)", file=sys.stderr)
    os.sync()
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="2M,10M")
    parser.add_argument("--runs", type=int, default=5, help="rounds; the median is reported")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--results", type=Path, help="append the table to this markdown file")
    args = parser.parse_args()
    lines = [f"\n### Paths vs the LAG floor ({datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, "
             f"{os.cpu_count()} cores, memory_limit 2GB, median of {args.runs} interleaved rounds, "
             f"load average {os.getloadavg()[0]:.1f} at start)\n",
             "| events | command | seconds | LAG floor s | / LAG floor, median of rounds (range) "
             "| peak RSS MiB (floor) |",
             "|---|---|---|---|---|---|"]
    for size in args.sizes.split(","):
        rows = generate.parse_size(size)
        with tempfile.TemporaryDirectory(prefix="journeyctl-bench-paths-") as tmp:
            work = Path(tmp)
            db = built(rows, args.seed, work)
            times: dict[str, list] = {"floor": [], **{name: [] for name in CASES}}
            for n in range(args.runs):
                for name, argv in [("floor", floor(db)), *((k, paths(work, *a)) for k, a in CASES.items())]:
                    m = measure(argv, cwd=work, env=render_speed.journeyctl_env())
                    if m.error:
                        raise SystemExit(f"{name} failed: {m.error}")
                    times[name].append(m)
                print(f"{rows:,} round {n + 1}: " + ", ".join(f"{k} {v[-1].seconds:.2f} s" for k, v in times.items()),
                      file=sys.stderr)
        median = {k: sorted(v, key=lambda m: m.seconds)[len(v) // 2] for k, v in times.items()}
        f = median["floor"]
        for name in CASES:
            m = median[name]
            # each round's ratio to its own floor: drift between rounds moves both sides alike
            ratios = sorted(p.seconds / q.seconds for p, q in zip(times[name], times["floor"]))
            lines.append(f"| {rows:,} skewed | `{name}` | {m.seconds:.2f} | {f.seconds:.2f} | "
                         f"{ratios[len(ratios) // 2]:.2f}× ({ratios[0]:.2f}–{ratios[-1]:.2f}) | "
                         f"{m.max_rss_mb:.0f} ({f.max_rss_mb:.0f}) |")
            print(lines[-1], file=sys.stderr)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.results:
        with args.results.open("a") as out:
            out.write(text)


if __name__ == "__main__":
    main()
