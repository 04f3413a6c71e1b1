"""Render speed: whole-process time of `journeyctl render` vs a bare import vs `dbt compile`.

Commands (each run as a fresh process; hyperfine if installed, else N runs and the median):
- python -c pass                                 the interpreter alone
- python -c "import sqlglot, jinja2, click"      journeyctl's imports, nothing else
- python -m journeyctl render --dialect snowflake
- dbt compile of benchmarks/dbt_project (five models, dbt-duckdb), from a venv of its own:
  benchmarks/.venv-dbt, created on first use (needs the package registry once).

Usage: python benchmarks/render_speed.py [--runs 10]
"""
from __future__ import annotations

import argparse
import compileall
import json
import os
import shlex
import shutil
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
        ("dbt compile (5 models, dbt-duckdb)", dbt_compile, dbt_env),
    ]


def time_command(argv: list[str], env: dict[str, str], cwd: Path, runs: int) -> dict:
    """{'median': s, 'runs': n, 'max_rss_mb': MiB or None, 'tool': ..., 'error': str or None}."""
    first = measure(argv, cwd=cwd, env=env)          # warm-up, and a check that it works
    if first.error:
        return {"median": None, "runs": 0, "max_rss_mb": None, "tool": "-", "error": first.error}
    if shutil.which("hyperfine"):
        export = cwd / "hyperfine.json"
        subprocess.run(["hyperfine", "--warmup", "1", "--runs", str(runs), "--shell=none",
                        "--export-json", str(export), shlex.join(argv)],
                       cwd=cwd, env=env, check=True, capture_output=True)
        median = json.loads(export.read_text())["results"][0]["median"]
        return {"median": median, "runs": runs, "max_rss_mb": first.max_rss_mb,
                "tool": "hyperfine", "error": None}
    timed = [measure(argv, cwd=cwd, env=env) for _ in range(runs)]
    return {"median": statistics.median(r.seconds for r in timed), "runs": runs,
            "max_rss_mb": max(r.max_rss_mb for r in timed), "tool": "median of runs",
            "error": next((r.error for r in timed if r.error), None)}


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
        return [{"command": label, **time_command(argv, env, work, runs)}
                for label, argv, env in commands(work)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    for row in render_speed(args.runs):
        took = f"{row['median'] * 1000:.0f} ms" if row["median"] is not None else row["error"]
        print(f"{row['command']:45} {took}")


if __name__ == "__main__":
    main()
