"""A real headless browser (Debian's chromium) to open the report page as a person would.

Installed by `.ci/browser.sh` (called from scripts/test). Missing, the tests that need it
SKIP locally and FAIL under CI=true, like the warehouse stand-ins.

    python -m tests.browser page.html shot.png    # a screenshot, e.g. docs/report.png
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--virtual-time-budget=15000"]
TIMEOUT_SECONDS = 120


def chromium() -> str:
    """The chromium binary; skip (locally) or fail (CI=true) when it is not installed."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    message = "chromium is not installed: run `bash .ci/browser.sh` (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _run(page: Path, *args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="journeyctl-chromium-") as profile:
        return subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()],
            capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)


def dump_dom(page: Path) -> str:
    """The DOM after the page's scripts ran (virtual time: no waiting on the wall clock)."""
    done = _run(page, "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def screenshot(page: Path, png: Path, width: int = 1400, height: int = 2160) -> Path:
    png.parent.mkdir(parents=True, exist_ok=True)
    done = _run(page, f"--window-size={width},{height}", f"--screenshot={png.resolve()}")
    assert done.returncode == 0 and png.exists(), done.stderr[-2000:]
    return png


if __name__ == "__main__":
    page, png = (Path(a) for a in sys.argv[1:3])
    print(screenshot(page, png))
