"""Render speed: whole-process time of `journeyctl render` vs a bare import vs `dbt compile`.

Commands (each run as a fresh process, runs interleaved across commands, median of N):
- python -c pass                                 the interpreter alone
- python -c "import sqlglot, jinja2, click"      journeyctl's imports, nothing else
- python -m journeyctl render --dialect snowflake (warm: its plan cache filled by the warm-up
  round), and the same with empty caches (a fresh TMPDIR per run)
- dbt compile of benchmarks/dbt_project (five models, dbt-duckdb), from a venv of its own:
  benchmarks/.venv-dbt, created on first use (needs the package registry once).

Usage: python benchmarks/render_speed.py [--runs 10]
"""
from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from runner import measure

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DBT_VENV = HERE / ".venv-dbt"
DBT_PROJECT = HERE / "dbt_project"
# dbt-core 1.12 downloads a parser wheel from outside the package registry at install time.
DBT_PACKAGES = ("dbt-core==1.11.16", "dbt-duckdb==1.11.1")
# How journeyctl renders; adjust here if the CLI changes.
JOURNEYCTL_RENDER = [sys.executable, "-m", "journeyctl", "render", "--dialect", "snowflake"]


def journeyctl_env() -> dict[str, str]:
    """Environment in which `python -m journeyctl` finds the working tree's package."""
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": str(REPO) + (os.pathsep + path if path else "")}


def ensure_dbt() -> Path:
    """The dbt executable of benchmarks/.venv-dbt, creating the venv if needed."""
    dbt = DBT_VENV / "bin" / "dbt"
    if not dbt.exists():
        subprocess.run([sys.executable, "-m", "venv", str(DBT_VENV)], check=True)
        subprocess.run([str(DBT_VENV / "bin" / "pip"), "install", "--quiet", *DBT_PACKAGES],
                       check=True)
    return dbt


def dbt_version() -> str:
    """e.g. 'dbt-core 1.11.16, dbt-duckdb 1.11.1', or '' if the venv is missing."""
    if not (DBT_VENV / "bin" / "python").exists():
        return ""
    code = ("from importlib.metadata import version as v; "
            "print(f\"dbt-core {v('dbt-core')}, dbt-duckdb {v('dbt-duckdb')}\")")
    out = subprocess.run([str(DBT_VENV / "bin" / "python"), "-c", code],
                         check=False, capture_output=True, text=True)
    return out.stdout.strip()


def commands(work: Path) -> list[tuple[str, list[str], dict[str, str]]]:
    """(label, argv, env) for each command timed; `work` is a scratch directory (the cwd)."""
    dbt_env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    dbt_compile = [str(DBT_VENV / "bin" / "dbt"), "compile", "--project-dir", str(DBT_PROJECT),
                   "--profiles-dir", str(DBT_PROJECT), "--target-path", str(work / "target"),
                   "--log-path", str(work / "logs")]
    return [
        ("python -c pass", [sys.executable, "-c", "pass"], dict(os.environ)),
        ('python -c "import sqlglot, jinja2, click"',
         [sys.executable, "-c", "import sqlglot, jinja2, click"], dict(os.environ)),
        ("journeyctl render --dialect snowflake", JOURNEYCTL_RENDER, journeyctl_env()),
        # Cold: an empty temp dir each run (inside `work`, the cwd, removed after) caches nothing.
        ("journeyctl render --dialect snowflake, cold caches",
         ["sh", "-c", 'TMPDIR=$(mktemp -d "$PWD/cold.XXXXXX") exec "$@"', "sh",
          *JOURNEYCTL_RENDER], journeyctl_env()),
        ("dbt compile (5 models, dbt-duckdb)", dbt_compile, dbt_env),
    ]


def time_commands(commands: list[tuple[str, list[str], dict[str, str]]], cwd: Path,
                  runs: int) -> list[dict]:
    """One dict per command: {'command', 'median' (s), 'runs', 'max_rss_mb', 'tool', 'error'}.

    Runs are interleaved (A, B, C, A, B, C, ...) so that the machine slowing down or speeding
    up during the measurement moves every command alike and the ratios stay fair."""
    results = {label: {"command": label, "median": None, "runs": 0, "max_rss_mb": None,
                       "tool": "median of interleaved runs", "error": None, "timed": []}
               for label, _, _ in commands}
    for i in range(runs + 1):  # the first round is a warm-up, and a check that each works
        for label, argv, env in commands:
            r = results[label]
            if r["error"]:
                continue
            run = measure(argv, cwd=cwd, env=env)
            r["error"] = run.error
            if i:
                r["timed"].append(run)
    for r in results.values():
        timed = r.pop("timed")
        if timed and not r["error"]:
            r.update(median=statistics.median(t.seconds for t in timed), runs=len(timed),
                     max_rss_mb=max(t.max_rss_mb for t in timed))
    return list(results.values())


def render_speed(runs: int = 10) -> list[dict]:
    """Time every command; one dict per command with its label added."""
    # Bytecode for the working tree's journeyctl, as pip writes it at install (sqlglot's and
    # dbt's modules got theirs then); under PYTHONDONTWRITEBYTECODE every run would recompile it.
    compileall.compile_dir(REPO / "journeyctl", quiet=1)
    try:
        ensure_dbt()
    except (OSError, subprocess.CalledProcessError) as exc:  # no registry: time the rest
        print(f"could not install dbt ({exc}); dbt compile will show as failed", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="journeyctl-render-") as tmp:
        work = Path(tmp)
        (work / "journeyctl.toml").write_text(
            'default_target = "bench"\n[pipeline]\nsource = "tracks"\nschema = "journey"\n'
            '[targets.bench]\ntype = "duckdb"\npath = "events.duckdb"\n')
        return time_commands(commands(work), work, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    for row in render_speed(args.runs):
        took = f"{row['median'] * 1000:.0f} ms" if row["median"] is not None else row["error"]
        print(f"{row['command']:45} {took}")


if __name__ == "__main__":
    main()
