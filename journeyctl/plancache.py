"""Rendered plans kept between processes, as dbt's partial parsing keeps its parse.

Parsing the templates and generating a dialect's SQL with sqlglot is most of what a `render`
does beyond importing its libraries. A plan depends only on the templates, the pipeline parameters,
the dialect, the selection and the code of journeyctl, sqlglot and jinja2; when all of
those are unchanged, the statements are read back instead of made again. The key hashes
every one of those inputs, so an edited template or an upgraded sqlglot is a miss, never a
stale plan.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import tempfile
from pathlib import Path

import jinja2
import sqlglot

from journeyctl import stages
from journeyctl.dialects import Dialect
from journeyctl.render import PipelineParams, Plan, render_plan

PACKAGE_DIR = Path(__file__).resolve().parent


def cache_dir() -> Path | None:
    """A private per-user folder under the system temp dir (as Jinja keeps its bytecode);
    None where it cannot be made private, and then nothing is cached."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:
        return None
    folder = Path(tempfile.gettempdir()) / f"journeyctl-plans-{getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    private = stat.S_ISDIR(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o700
    return folder if private and info.st_uid == getuid() else None


def plan_key(params: PipelineParams, dialect: Dialect, select: tuple[str, ...], options: dict) -> str:
    digest = hashlib.sha256(repr((params, dialect.name, select, sorted(options.items()),
                                  sqlglot.__version__, jinja2.__version__)).encode())
    for root in (PACKAGE_DIR, stages.template_dir()):
        for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".sql")):
            digest.update(str(path).encode() + b"\0" + path.read_bytes())  # Steps keep paths
    return digest.hexdigest()


def cached_render_plan(params: PipelineParams, dialect: Dialect, select: tuple[str, ...] = (),
                       **options) -> Plan:
    """render_plan(params, dialect, select, **options), read back when nothing it depends on
    changed. Only for plans that do not name a run: each run's own would never be read again."""
    folder = cache_dir()
    if folder is None:
        return render_plan(params, dialect, select, **options)
    path = folder / f"{plan_key(params, dialect, select, options)}.pickle"
    try:
        setup, steps, cleanup = pickle.loads(path.read_bytes())
        return Plan(dialect=dialect, params=params, setup=setup, steps=steps, cleanup=cleanup)
    except Exception:  # a miss, or an unreadable entry: either way, render afresh
        pass
    plan = render_plan(params, dialect, select, **options)
    written = folder / f"{path.name}.{os.getpid()}"  # then renamed: readers never see half a file
    try:
        written.write_bytes(pickle.dumps((plan.setup, plan.steps, plan.cleanup)))
        os.replace(written, path)
    except OSError:  # a full or read-only temp dir only costs the next render its speed
        written.unlink(missing_ok=True)
    return plan
