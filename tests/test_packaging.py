"""The wheel as users get it: templates inside, console script works from an empty folder."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_installs_and_runs_from_an_empty_folder(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist),
                    str(ROOT)], check=True, capture_output=True)
    wheel = next(dist.glob("journeyctl-*.whl"))
    env_dir = tmp_path / "venv"
    # Dependencies come from this environment; the package itself only from the wheel.
    venv.create(env_dir, with_pip=True, system_site_packages=True)
    bin_dir = env_dir / "bin"
    subprocess.run([bin_dir / "python", "-m", "pip", "install", "--no-deps", "--quiet", str(wheel)],
                   check=True, capture_output=True)
    empty = tmp_path / "empty"
    empty.mkdir()

    where = subprocess.run([bin_dir / "python", "-c", "import journeyctl; print(journeyctl.__file__)"],
                           cwd=empty, check=True, capture_output=True, text=True).stdout
    assert str(env_dir) in where

    rendered = subprocess.run([bin_dir / "journeyctl", "render", "--dialect", "snowflake"],
                              cwd=empty, check=True, capture_output=True, text=True)
    assert rendered.stdout.count("-- stage: ") == 7

    demo = subprocess.run([bin_dir / "journeyctl", "demo", "--events", "3000"],
                          cwd=empty, check=True, capture_output=True, text=True)
    assert "top 10 journeys" in demo.stdout
    assert (empty / "journey.duckdb").exists()
    assert (empty / "journey-report.html").stat().st_size > 1_000_000  # plotly.js inlined
    tested = subprocess.run([bin_dir / "journeyctl", "test"], cwd=empty, capture_output=True, text=True)
    assert tested.returncode == 0 and "data tests passed" in tested.stdout, tested.stderr
