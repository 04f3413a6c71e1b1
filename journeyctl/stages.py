"""Stage templates and the graph their `ref()` calls draw.

A stage is one `.sql` file in `sql_templates/` (files starting with `_` hold shared
macros). Rendering a template records the stages it `ref()`s and whether it reads
`source()`, so the dependency graph is derived from the SQL itself, never listed.
"""

from __future__ import annotations

import graphlib
import hashlib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import jinja2

from journeyctl.errors import ConfigError, RenderError

SOURCE_MARKER = "__journeyctl_source__"
REF_MARKER = "__journeyctl_ref__"


def template_dir() -> Path:
    """`sql_templates/` inside an installed wheel, else beside the package in a checkout."""
    packaged = Path(str(resources.files("journeyctl"))) / "sql_templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "sql_templates"


@cache
def _environment(root: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        bytecode_cache=_bytecode_cache(),
    )


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Jinja's own cache of compiled templates (keyed by their source), in a private per-user
    temp folder: compiling the templates is a third of a `render`. None where there is none."""
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None


@dataclass
class RenderedTemplate:
    """A template rendered to neutral SQL, with what it declared and referenced."""

    name: str
    path: Path
    sql: str
    refs: list[str] = field(default_factory=list)
    reads_source: bool = False
    description: str = ""
    published: bool = True
    enabled: bool = True
    procedure: str | None = None
    """A step journeyctl's runner performs on the rows the SQL selects (the identity graph's loop)."""
    view: bool = False
    """Published as a view of the stage it selects from (the views layout), not as a table."""

    @property
    def inputs(self) -> list[str]:
        return [*self.refs, *(["source"] if self.reads_source else [])]


def render_template(relative_path: str, params: dict[str, Any]) -> RenderedTemplate:
    """Render one template with `params`, capturing its ref()/source()/config() calls."""
    root = template_dir()
    path = root / relative_path
    out = RenderedTemplate(name=Path(relative_path).stem, path=path, sql="")

    def ref(stage: str) -> str:
        if stage not in out.refs:
            out.refs.append(stage)
        return REF_MARKER + stage

    def source() -> str:
        out.reads_source = True
        return SOURCE_MARKER

    def config(description: str = "", published: bool = True, enabled: bool = True,
               procedure: str | None = None, view: bool = False) -> str:
        out.description, out.published, out.enabled, out.procedure, out.view = (
            description, published, enabled, procedure, view)
        return ""

    try:
        template = _environment(root).get_template(relative_path)
        out.sql = template.render(**params, ref=ref, source=source, config=config)
    except jinja2.TemplateSyntaxError as e:
        raise RenderError(f"template syntax error in {e.filename or path}:{e.lineno}: {e.message}")
    except jinja2.UndefinedError as e:
        raise RenderError(f"{path}: {e.message}", hint="a template used a parameter that is not defined")
    return out


@cache
def templates_digest() -> str:
    """A hash of every template's text: a changed template is a changed pipeline."""
    root = template_dir()
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.sql")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def stage_files(folder: str = "") -> list[str]:
    """Stage template paths (not macros) in `folder` of sql_templates/, sorted."""
    root = template_dir()
    return sorted(str(p.relative_to(root)) for p in (root / folder).glob("*.sql")
                  if not p.name.startswith("_"))


def render_templates(params: dict[str, Any], folder: str = "",
                     outside: Iterable[str] = ()) -> dict[str, RenderedTemplate]:
    """Every enabled stage of `folder` rendered, by name; a ref() to no stage (of the folder, or
    named in `outside`) is an error."""
    rendered = {t.name: t for t in (render_template(f, params) for f in stage_files(folder)) if t.enabled}
    for t in rendered.values():
        unknown = [r for r in t.refs if r not in rendered and r not in outside]
        if unknown:
            raise RenderError(f"{t.path}: ref({unknown[0]!r}) names no stage; "
                              f"stages are: {', '.join(sorted(rendered))}")
    return rendered


def dependency_order(stages: Iterable[RenderedTemplate],
                     after: Mapping[str, Iterable[str]] | None = None) -> list[RenderedTemplate]:
    """Stages in dependency order, ties broken by name; `after` adds ordering-only edges."""
    after = after or {}
    by_name = {t.name: t for t in stages}
    graph = graphlib.TopologicalSorter({n: [*(r for r in t.refs if r in by_name), *after.get(n, ())]
                                        for n, t in by_name.items()})
    try:
        graph.prepare()
    except graphlib.CycleError as e:
        raise RenderError(f"stage references form a cycle: {' -> '.join(e.args[1])}")
    ordered = []
    while graph.is_active():
        ready = sorted(graph.get_ready())
        ordered.extend(by_name[n] for n in ready)
        graph.done(*ready)
    return ordered


def reachable(start: str, edges: Callable[[str], Iterable[str]]) -> set[str]:
    """`start` and every stage reached from it along `edges` (e.g. a stage's refs)."""
    seen, todo = set(), [start]
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(edges(n))
    return seen


def select_stages(stages: list[RenderedTemplate], selectors: tuple[str, ...]) -> list[str]:
    """Names chosen by dbt-style selectors: `name`, `+name` (with upstream), `name+` (downstream).

    Working (unpublished) stages are not kept between runs, so a chosen stage always
    brings the working stages it reads from; a view and the table it reads are one set of rows,
    so either brings the other.
    """
    if not selectors:
        return [s.name for s in stages]
    by_name = {s.name: s for s in stages}
    upstream = {s.name: [r for r in s.refs if r in by_name] for s in stages}  # not refs outside them
    downstream: dict[str, list[str]] = {n: [] for n in by_name}
    for s in stages:
        for r in upstream[s.name]:
            downstream[r].append(s.name)

    chosen: set[str] = set()
    for raw in (part for sel in selectors for part in sel.replace(",", " ").split()):
        name = raw.strip("+")
        if name not in by_name:
            raise ConfigError(f"--select {raw!r} names no stage; stages are: {', '.join(by_name)}")
        chosen.add(name)
        if raw.startswith("+"):
            chosen |= reachable(name, lambda n: upstream[n])
        if raw.endswith("+"):
            chosen |= reachable(name, lambda n: downstream[n])
    views = [s.name for s in stages if s.view]
    chosen |= {r for v in views if v in chosen for r in upstream[v]}
    chosen |= {v for v in views if chosen & set(upstream[v])}
    for s in reversed(stages):
        if s.name in chosen:
            chosen |= {r for r in upstream[s.name] if not by_name[r].published}
    return [s.name for s in stages if s.name in chosen]
