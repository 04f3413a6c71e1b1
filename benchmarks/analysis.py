"""Journey analyses vs the LAG floor on DuckDB, whole process: on the journey tables built from the
skewed 2M/10M events (generate.py's cache; built once per size by `journeyctl run` and cached
beside them), each case of CASES runs in its own process, interleaved with the LAG floor
(`CREATE TABLE floor AS SELECT id, anonymous_id, timestamp, LAG(timestamp) OVER (PARTITION BY
COALESCE(user_id, anonymous_id) ORDER BY timestamp, id) FROM tracks`, runner.py's floor-lag): the
median wall seconds and peak RSS of each, and each case / floor. Goals: a funnel <= 1.0 (it sorts
only the events of its steps), paths <= 1.25 (they sort every event once, as the floor does).

A case is the arguments after `journeyctl --config <toml>`; add more to CASES.

Example: python benchmarks/analysis.py --sizes 2M,10M --runs 3 --results benchmarks/RESULTS.md
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

import generate
import render_speed
from runner import measure

HERE = Path(__file__).resolve().parent
RUNNER = HERE / "runner.py"
MEMORY_LIMIT = "2GB"

CASES: dict[str, list[str]] = {  # generate.py's event names
    "funnel: 3 steps, ordered, 14d window": [
        "funnel", "product_viewed", "product_added", "order_completed", "--format", "json"],
    "funnel: 5 steps, 2 exclusions": [
        "funnel", "product_viewed", "product_added", "cart_viewed", "checkout_started", "order_completed",
        "--exclude", "product_removed@2-5", "--exclude", "logged_in", "--format", "json"],
    "funnel: 3 steps, any order": [
        "funnel", "product_viewed", "product_added", "order_completed", "--order", "any", "--format", "json"],
    "paths: no anchor": ["paths", "--format", "json"],
    "paths: --start product_viewed": ["paths", "--start", "product_viewed", "--format", "json"],
    "paths: --start cart_viewed --end order_completed": [
        "paths", "--start", "cart_viewed", "--end", "order_completed", "--format", "json"],
}


def config(db: Path) -> str:
    return "\n".join(['default_target = "bench"', "[pipeline]", 'source = "tracks"',
                      'schema = "journey"', "[targets.bench]", 'type = "duckdb"',
                      f"path = {json.dumps(str(db))}", f'memory_limit = "{MEMORY_LIMIT}"']) + "\n"


def built(rows: int, seed: int) -> Path:
    """The skewed events with the journey tables built (cached: building is setup, not timed)."""
    from journeyctl.stages import templates_digest
    events, _ = generate.ensure(rows, "skewed", seed)
    path = events.with_name(events.stem + f"-journey-{templates_digest()[:12]}.duckdb")
    if path.exists():
        return path
    with tempfile.TemporaryDirectory(prefix="journeyctl-bench-analysis-", dir=HERE / ".cache") as tmp:
        db = Path(tmp) / "built.duckdb"
        shutil.copyfile(events, db)
        (Path(tmp) / "journeyctl.toml").write_text(config(db))
        run = measure([sys.executable, "-m", "journeyctl", "--config", str(Path(tmp) / "journeyctl.toml"),
                       "run", "--format", "json"], cwd=tmp, env=render_speed.journeyctl_env())
        if run.error:
            raise SystemExit(f"journeyctl run on {rows:,} events failed: {run.error}")
        print(f"{rows:,}: journey tables built in {run.seconds:.1f} s", file=sys.stderr)
        db.rename(path)
    return path


def commands(db: Path, work: Path) -> dict[str, list[str]]:
    """Every timed command: the LAG floor first, then the cases."""
    toml = work / "journeyctl.toml"
    toml.write_text(config(db))
    floor = [sys.executable, str(RUNNER), "floor-lag", "--db", str(db), "--memory-limit", MEMORY_LIMIT]
    return {"LAG floor": floor,
            **{name: [sys.executable, "-m", "journeyctl", "--config", str(toml), *args]
               for name, args in CASES.items()}}


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="2M,10M")
    parser.add_argument("--runs", type=int, default=3, help="rounds; the median is reported")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--only", help="run only the cases whose name contains this")
    parser.add_argument("--results", type=Path, help="append the table to this markdown file")
    args = parser.parse_args()
    lines = [f"\n### Analyses vs the LAG floor ({datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, "
             f"{os.cpu_count()} cores, memory_limit {MEMORY_LIMIT}, whole process, median of {args.runs})\n",
             "| events | case | seconds | peak RSS MiB | / LAG floor |", "|---|---|---|---|---|"]
    for size in args.sizes.split(","):
        rows = generate.parse_size(size)
        db = built(rows, args.seed)
        with tempfile.TemporaryDirectory(prefix="journeyctl-bench-analysis-") as tmp:
            work = Path(tmp)
            copy = work / "journey.duckdb"  # the floor writes its table here, never in the cache
            shutil.copyfile(db, copy)
            todo = {k: v for k, v in commands(copy, work).items()
                    if k == "LAG floor" or not args.only or args.only in k}
            times: dict[str, list[tuple[float, float]]] = {k: [] for k in todo}
            for n in range(args.runs):  # interleaved: the machine's drift moves every command alike
                for name, argv in todo.items():
                    m = measure(argv, cwd=work, env=render_speed.journeyctl_env())
                    if m.error:
                        raise SystemExit(f"{name} failed: {m.error}")
                    times[name].append((m.seconds, m.max_rss_mb))
                    print(f"{rows:,} run {n + 1}: {name}: {m.seconds:.2f} s, {m.max_rss_mb:.0f} MiB",
                          file=sys.stderr)
        floor = median([s for s, _ in times["LAG floor"]])
        for name, measured in times.items():
            seconds = median([s for s, _ in measured])
            lines.append(f"| {rows:,} skewed | {name} | {seconds:.2f} | {median([r for _, r in measured]):.0f} "
                         f"| {seconds / floor:.2f} |")
            print(lines[-1], file=sys.stderr)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.results:
        with args.results.open("a") as out:
            out.write(text)


if __name__ == "__main__":
    main()
