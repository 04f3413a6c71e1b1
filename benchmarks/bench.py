"""journeyctl benchmarks: `journeyctl run` vs the floor vs the original dbt sample project on
DuckDB, and render speed; prints a markdown report and writes it to benchmarks/RESULTS.md.

Each timed run is a fresh process on a fresh copy of the cached events file; wall time and peak
RSS are those of that process; the report gives the median of --runs runs.

Example: python benchmarks/bench.py --sizes 1M,10M --shapes uniform,skewed --runs 3
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import generate
import render_speed
from runner import measure, touch_memory

HERE = Path(__file__).resolve().parent
JOBS = ("floor", "floor-lag", "floor-sessions", "write-floor", "journeyctl", "journeyctl-tables", "journeyctl-sql", "baseline")
LABELS = {"floor": "floor", "floor-lag": "LAG floor", "floor-sessions": "sessions floor",
          "write-floor": "writing the tables",
          "journeyctl": "journeyctl", "journeyctl-tables": "journeyctl, layout tables",
          "journeyctl-sql": "journeyctl's SQL, bare",
          "baseline": "dbt baseline"}


# --- How journeyctl is run: adjust here if its CLI or config changes. -------------------------
def journeyctl_command(config: Path) -> list[str]:
    # --config is an option of the command group (it is also ./journeyctl.toml in the cwd).
    return [sys.executable, "-m", "journeyctl", "--config", str(config), "run",
            "--target", "bench", "--format", "json"]


def journeyctl_plan(config: Path) -> list[str]:
    """The DuckDB plan `journeyctl run` executes, as JSON (for the journeyctl-sql job)."""
    return [sys.executable, "-m", "journeyctl", "--config", str(config), "render",
            "--dialect", "duckdb", "--format", "json"]


def journeyctl_config(db: Path, memory_limit: str | None, threads: int | None,
                      concurrency: int | None = None, layout: str = "views") -> str:
    lines = ['default_target = "bench"', "[pipeline]", 'source = "tracks"', 'schema = "journey"',
             f"layout = {json.dumps(layout)}", "[targets.bench]", 'type = "duckdb"', f"path = {json.dumps(str(db))}"]
    if memory_limit:
        lines.append(f"memory_limit = {json.dumps(memory_limit)}")
    if threads:
        lines.append(f"threads = {int(threads)}")
    if concurrency:
        lines.append(f"concurrency = {int(concurrency)}")
    return "\n".join(lines) + "\n"
# -----------------------------------------------------------------------------------------------


def command(job: str, db: Path, work: Path, args: argparse.Namespace) -> list[str]:
    """The job's argv; journeyctl-sql's plan is rendered here, untimed."""
    config = work / "journeyctl.toml"
    config.write_text(journeyctl_config(db, args.memory_limit, args.threads, args.concurrency,
                                        "tables" if job == "journeyctl-tables" else "views"))
    if job in ("journeyctl", "journeyctl-tables"):
        return journeyctl_command(config)
    argv = [sys.executable, str(HERE / "runner.py"), job, "--db", str(db),
            "--temp-dir", str(work / "spill")]
    if job == "journeyctl-sql":
        plan = work / "plan.json"
        plan.write_text(subprocess.run(journeyctl_plan(config), check=True, capture_output=True,
                                       text=True, cwd=work, env=render_speed.journeyctl_env()).stdout)
        argv += ["--plan", str(plan)]
    if args.memory_limit:
        argv += ["--memory-limit", args.memory_limit]
    if args.threads:
        argv += ["--threads", str(args.threads)]
    return argv


def parse_summary(stdout: str) -> dict | None:
    """The JSON run summary: the whole stdout, or else its last line that parses."""
    for text in [stdout, *reversed(stdout.splitlines())]:
        try:
            summary = json.loads(text)
        except ValueError:
            continue
        if isinstance(summary, dict):
            return summary
    return None


def time_job(job: str, events: Path, args: argparse.Namespace) -> dict:
    """One run of one job, in its own process, on its own copy of the events file."""
    with tempfile.TemporaryDirectory(prefix=f"journeyctl-bench-{job}-", dir=args.work_dir) as tmp:
        work = Path(tmp)
        db = work / "events.duckdb"
        shutil.copyfile(events, db)
        os.sync()  # the copy's writeback is setup: flushed before the timed run, not during it
        touch_memory(args.warm_memory)
        run = measure(command(job, db, work, args), cwd=work,
                      env=render_speed.journeyctl_env(), timeout=args.timeout)
    summary = parse_summary(run.stdout) if not run.error else None
    error = run.error or (None if summary else "no JSON summary on stdout")
    return {"seconds": run.seconds, "max_rss_mb": run.max_rss_mb, "summary": summary,
            "error": error}


def bench_dataset(events: Path, args: argparse.Namespace) -> dict[str, dict]:
    """Runs interleaved (floor, journeyctl, journeyctl-sql, baseline, floor, ...); a job that
    fails stops."""
    runs: dict[str, list[dict]] = {job: [] for job in args.jobs}
    failed: dict[str, str] = {}
    for i in range(args.runs):
        for job in args.jobs:
            if job in failed:
                continue
            result = time_job(job, events, args)
            print(f"  {job:10} run {i + 1}: {result['seconds']:8.2f} s "
                  f"{result['max_rss_mb']:8.0f} MiB  {result['error'] or ''}", flush=True)
            if result["error"]:
                failed[job] = result["error"]
            else:
                runs[job].append(result)
    return {job: summarise(runs[job], failed.get(job)) for job in args.jobs}


def median_of(items: list[dict], key: str) -> float | None:
    """The median of items[key], or None when some item lacks it."""
    return statistics.median(i[key] for i in items) if all(key in i for i in items) else None


def summarise(runs: list[dict], error: str | None) -> dict:
    if not runs:
        return {"error": error or "not run"}
    stages: dict[str, list[dict]] = {}
    for run in runs:
        for stage in (run["summary"] or {}).get("stages", []):
            name = stage.get("name") or stage.get("stage")  # journeyctl says "stage"
            stages.setdefault(name, []).append(stage)
    return {
        "runs": len(runs), "error": error,
        "seconds": statistics.median(r["seconds"] for r in runs),
        "max_rss_mb": statistics.median(r["max_rss_mb"] for r in runs),
        "stages": [{"name": name, "rows": items[-1].get("rows"),
                    "seconds": median_of(items, "seconds"),
                    "peak_rss_mb": median_of(items, "peak_rss_mb")}
                   for name, items in stages.items()],
    }


# --- Report ------------------------------------------------------------------------------------
def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), platform.processor())
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {ram:.1f} GiB RAM, {cpu}, {platform.platform()}"


def versions() -> str:
    import duckdb
    import sqlglot
    git = subprocess.run(["git", "-C", str(HERE), "describe", "--always", "--dirty"],
                         check=False, capture_output=True, text=True).stdout.strip() or "no commit"
    return (f"Python {platform.python_version()}, duckdb {duckdb.__version__}, "
            f"sqlglot {sqlglot.__version__}, {render_speed.dbt_version() or 'dbt not installed'}; "
            f"journeyctl working tree at {git}")


def cell(result: dict) -> str:
    if result.get("seconds") is None:
        return f"n/a ({result.get('error', 'not run')[:60]})"
    return f"{result['seconds']:.2f} s / {result['max_rss_mb']:.0f} MiB"


def ratio(a: dict | None, b: dict | None) -> str:
    if not a or not b or a.get("seconds") is None or b.get("seconds") is None:
        return "n/a"
    return f"{a['seconds'] / b['seconds']:.2f}"


def report(args: argparse.Namespace, data: list[dict], render: list[dict]) -> str:
    out = ["# journeyctl benchmarks", "",
           f"- Date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
           f"- Machine: {machine()}",
           f"- Versions: {versions()}",
           f"- Command: `{' '.join(['python benchmarks/bench.py', *sys.argv[1:]])}`",
           (f"- DuckDB settings for every job: memory_limit={args.memory_limit or 'default'}, "
            f"threads={args.threads or 'default'}"
            + (f"; {args.warm_memory:g} GB of memory touched before every run" if args.warm_memory else "")),
           (f"- Load average (1 min) at start / end: {args.load_start:.1f} / "
            f"{os.getloadavg()[0]:.1f} (other work on the machine slows every number)"), ""]
    if data:
        out += ["## Pipeline on DuckDB", "",
                (f"Median of {args.runs} runs, each a fresh process on a fresh copy of the "
                 "events file: wall seconds / peak RSS of that process. floor = one LAG window "
                 "over all events, every column carried; LAG floor = the same window over only "
                 "id, anonymous_id and timestamp (the least any sessionization must sort); "
                 "sessions floor = the LAG window, then the running count of session starts "
                 "(a second sort: windows cannot nest), each event written with its session "
                 "(the least an exact sessionization in SQL must do); "
                 "writing the tables = the three event-level tables' columns copied from the "
                 "source with nothing computed (the least any implementation must write); "
                 "journeyctl = `journeyctl run` in the default layout (views), layout tables "
                 "= the same with [pipeline] layout = \"tables\"; "
                 "journeyctl's SQL, bare = the statements `journeyctl run` "
                 "executes, run by benchmarks/runner.py in a process that imports only duckdb "
                 "(journeyctl's own share of the time and memory is the difference); "
                 "baseline = the original dbt sample project's five models "
                 "(benchmarks/baseline_dbt)."), "",
                ("| size | shape | generated in | "
                 + " | ".join(LABELS[job] for job in JOBS)
                 + " | journeyctl / floor | journeyctl / LAG floor | journeyctl, layout tables / LAG floor"
                 + " | sessions floor / LAG floor | journeyctl / sessions floor"
                 + " | writing the tables / LAG floor | baseline / journeyctl |"),
                "|---|---|---|" + "---|" * (len(JOBS) + 7)]
        for d in data:
            r = d["results"]
            gen = "cached" if d["generate_seconds"] is None else f"{d['generate_seconds']:.1f} s"
            out.append(f"| {d['rows']:,} | {d['shape']} | {gen} | "
                       + " | ".join(cell(r.get(job, {})) for job in JOBS)
                       + f" | {ratio(r.get('journeyctl'), r.get('floor'))}"
                       + f" | {ratio(r.get('journeyctl'), r.get('floor-lag'))}"
                       + f" | {ratio(r.get('journeyctl-tables'), r.get('floor-lag'))}"
                       + f" | {ratio(r.get('floor-sessions'), r.get('floor-lag'))}"
                       + f" | {ratio(r.get('journeyctl'), r.get('floor-sessions'))}"
                       + f" | {ratio(r.get('write-floor'), r.get('floor-lag'))}"
                       + f" | {ratio(r.get('baseline'), r.get('journeyctl'))} |")
        out += ["", "### Stages (medians, from each run's JSON summary)", "",
                ("Peak RSS so far: the process's peak after the stage (runner.py jobs only), "
                 "which shows where a run reaches its peak."), "",
                "| size | shape | job | stage | rows | seconds | peak RSS so far |",
                "|---|---|---|---|---|---|---|"]
        for d in data:
            for job in ("journeyctl", "journeyctl-tables", "journeyctl-sql", "baseline"):
                for s in d["results"].get(job, {}).get("stages", []):
                    rows = f"{s['rows']:,}" if isinstance(s.get("rows"), int) else "-"
                    peak = f"{s['peak_rss_mb']:.0f} MiB" if s.get("peak_rss_mb") else "-"
                    out.append(f"| {d['rows']:,} | {d['shape']} | {LABELS[job]} | {s['name']} | "
                               f"{rows} | {s['seconds']:.2f} | {peak} |")
    if render:
        out += ["", "## Render speed", "",
                "Whole process, cold interpreter each time: median wall time, and peak RSS.", "",
                "| command | median | peak RSS | timed with |", "|---|---|---|---|"]
        for r in render:
            median = f"{r['median'] * 1000:.0f} ms" if r["median"] is not None else r["error"]
            rss = f"{r['max_rss_mb']:.0f} MiB" if r["max_rss_mb"] else "-"
            out.append(f"| `{r['command']}` | {median} | {rss} | {r['tool']}, {r['runs']} runs |")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n")[-1])
    parser.add_argument("--sizes", default="1M", help="comma list of row counts (default 1M)")
    parser.add_argument("--shapes", default="uniform,skewed", help="uniform, skewed or both")
    parser.add_argument("--runs", type=int, default=3, help="runs per job; the median is reported")
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB memory_limit ('' = none)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="DuckDB threads")
    parser.add_argument("--jobs", default=",".join(JOBS),
                        help="comma subset of " + ",".join(JOBS))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--concurrency", type=int,
                        help="journeyctl's stages run at once (default: the duckdb target's, 2)")
    parser.add_argument("--render-runs", type=int, default=10,
                        help="runs per render-speed command; 0 skips render speed")
    parser.add_argument("--timeout", type=float, default=3600,
                        help="seconds before a run is killed")
    parser.add_argument("--warm-memory", type=float, default=0, metavar="GB",
                        help="touch this much memory before every timed run (see runner.touch_memory)")
    parser.add_argument("--work-dir", help="where the per-run copies go (default: system temp)")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md",
                        help="markdown report written here ('-' = print only)")
    args = parser.parse_args()
    args.jobs = [job for job in args.jobs.split(",") if job]
    if unknown := set(args.jobs) - set(JOBS):
        parser.error(f"unknown jobs: {', '.join(sorted(unknown))}")

    args.load_start = os.getloadavg()[0]
    data = []
    for size in filter(None, args.sizes.split(",")):
        for shape in filter(None, args.shapes.split(",")):
            rows = generate.parse_size(size)
            events, seconds = generate.ensure(rows, shape, args.seed)
            took = "cached" if seconds is None else f"generated in {seconds:.1f} s"
            print(f"{rows:,} rows, {shape}: {events.name} ({took})", flush=True)
            data.append({"rows": rows, "shape": shape, "generate_seconds": seconds,
                         "results": bench_dataset(events, args) if args.jobs else {}})
    render = []
    if args.render_runs > 0:
        print("render speed ...", flush=True)
        render = render_speed.render_speed(args.render_runs)
    text = report(args, data, render)
    print(text)
    if str(args.results) != "-":
        args.results.write_text(text)
        print(f"written to {args.results}")


if __name__ == "__main__":
    main()
