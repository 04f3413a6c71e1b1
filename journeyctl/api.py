"""journeyctl as a library, for orchestrators (Airflow, Dagster, Prefect …) and notebooks.

The CLI's `render` and `run` are thin layers over these functions. Parameters left out come
from journeyctl.toml (`config`: a path, or None for $JOURNEYCTL_CONFIG then ./journeyctl.toml)
and then the defaults, exactly as for the CLI. Failures raise journeyctl.errors types, each
with an `exit_code` and a `hint`: ConfigError (and RenderError) before anything ran,
ConnectionFailed, ExecutionError (the published tables are untouched), DataTestFailed.

    from journeyctl.api import render, run
    script = render("snowflake", source="RUDDER.TRACKS", idle_timeout_minutes=45)
    result = run(target="bq", config="journeyctl.toml", test=True)
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence, TypedDict, Unpack

from journeyctl.config import Config, check_keys, load_config
from journeyctl.connectors import connect
from journeyctl.connectors.base import Connector
from journeyctl.dialects import Dialect, get_dialect
from journeyctl.errors import ConfigError
from journeyctl.plancache import cached_render_plan
from journeyctl.render import PipelineParams, Plan

if TYPE_CHECKING:
    from journeyctl.analysis.funnel import Funnel
    from journeyctl.runner import RunPlan, RunResult

ConfigLike = Config | str | os.PathLike | None
Report = Callable[[str], None]


class Overrides(TypedDict, total=False):
    """The pipeline's parameters; each one left out (or None) comes from journeyctl.toml, then the defaults."""

    source: str | None
    """Source tracks table, 1-3 dotted parts (default: tracks; TRACKS on Snowflake)."""
    schema: str | None
    """Output schema (BigQuery: dataset); default: the target's own, else journey."""
    idle_timeout_minutes: float | None
    """Minutes of inactivity that end a session (default 30)."""
    journey_length: int | None
    """Events per row of dbt_tracks_flow, N >= 2 (default 5)."""
    timestamp_column: str | None
    """Source column of the event time (default: timestamp)."""
    identity: str | None
    """How ids become visitors: "latest_user" (default) or "graph" (connected components)."""
    layout: str | None
    """"views" (default: one physical event table, the three event-level tables views of it) or
    "tables" (each a table)."""


@dataclass(frozen=True)
class Statement:
    """One SQL statement and what it is for: a stage's name, or setup/publish/cleanup/data test."""

    stage: str
    sql: str


@dataclass(frozen=True)
class Script:
    """A rendered pipeline: its statements in execution order, each with its stage."""

    plan: Plan

    @property
    def dialect(self) -> str:
        return self.plan.dialect.name

    @property
    def params(self) -> PipelineParams:
        return self.plan.params

    @property
    def statements(self) -> list[Statement]:
        p = self.plan
        return [*(Statement("setup", s) for s in p.setup),
                *(Statement(step.stage, s) for step in p.steps for s in step.statements),
                *(Statement("cleanup", s) for s in p.cleanup)]

    @property
    def sql(self) -> str:
        """The self-contained script `journeyctl render` prints."""
        return self.plan.script()

    def as_json(self) -> list[dict]:
        return self.plan.as_json()

    def write_files(self, output_dir: Path) -> list[Path]:
        """One numbered .sql file per stage (setup first, cleanup last), as `render --output-dir`."""
        groups = [("setup", self.plan.setup), *((s.stage, s.statements) for s in self.plan.steps)]
        groups += [("cleanup", self.plan.cleanup)] if self.plan.cleanup else []
        output_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for i, (name, statements) in enumerate(groups):
            paths.append(output_dir / f"{i:02d}_{name}.sql")
            paths[-1].write_text("".join(f"{s};\n" for s in statements))
        return paths


def load(config: ConfigLike = None) -> Config:
    """`config` as a Config: given one, or read from a journeyctl.toml path (None: the default one)."""
    return config if isinstance(config, Config) else load_config(None if config is None else str(config))


def pipeline_params(config: Config, dialect: Dialect, target_schema: str | None = None,
                    target_layout: str | None = None, **overrides: Unpack[Overrides]) -> PipelineParams:
    """The parameters: overrides over the target's own schema over journeyctl.toml over defaults.
    An unknown override is a ConfigError (a misspelt one must not fall back to its default)."""
    check_keys(overrides, set(Overrides.__annotations__), "the pipeline parameters")
    o = overrides.get
    return config.pipeline_params(dialect.default_source, source=o("source"), schema=o("schema"),
                                  idle_timeout_minutes=o("idle_timeout_minutes"),
                                  journey_length_=o("journey_length"), target_schema=target_schema,
                                  timestamp_column=o("timestamp_column"), identity=o("identity"),
                                  layout=o("layout"), target_layout=target_layout)


def render(dialect: str | None = None, *, config: ConfigLike = None, select: Sequence[str] = (),
           **params: Unpack[Overrides]) -> Script:
    """The pipeline as SQL for `dialect` (default: the default target's), without connecting.

    `select` takes dbt-style selectors (NAME, +NAME, NAME+). Raises ConfigError for a bad
    parameter, dialect or selector, RenderError if a template cannot be expressed.
    """
    cfg = load(config)
    d = get_dialect(dialect) if dialect else connect(cfg.target(None)).dialect
    return Script(cached_render_plan(pipeline_params(cfg, d, **params), d, tuple(select)))


def export_dbt(output_dir: str | os.PathLike, dialect: str | None = None, *, config: ConfigLike = None,
               **params: Unpack[Overrides]) -> list[Path]:
    """Write the pipeline as a dbt project (also a dbt package) into `output_dir`; the files written.

    As render(), without `select`: dbt selects models with its own --select.
    """
    from journeyctl.dbt_export import write_project
    script = render(dialect, config=config, **params)
    return write_project(script.params, script.plan.dialect, Path(output_dir))


@dataclass(frozen=True)
class RunSetup:
    """Where and how a run goes: a (not yet opened) connector and the parameters to build with."""

    connector: Connector
    params: PipelineParams
    incremental: bool

    def plan(self, select: Sequence[str], full_refresh: bool, report: Report,
             offline: bool = False) -> RunPlan:
        """What the run executes, from what the target holds (open connector; `offline`: a full
        run's plan, as if the schema held this layout)."""
        from journeyctl.incremental import plan_incremental_run
        from journeyctl.runner import plan_run
        if self.incremental:
            return plan_incremental_run(self.connector, self.params, tuple(select), full_refresh,
                                        report=report)
        return plan_run(self.connector, self.params, tuple(select), offline=offline)


def on_target(target: str | Connector | None, config: ConfigLike, incremental: bool | None = None,
              **overrides: Unpack[Overrides]) -> RunSetup:
    """A run on `target` (a name, None for the default, or a connector): incremental as asked,
    else as [pipeline] incremental says."""
    cfg = load(config)
    connector = target if isinstance(target, Connector) else connect(cfg.target(target))
    return RunSetup(connector, pipeline_params(cfg, connector.dialect,
                                               target_schema=connector.output_schema(),
                                               target_layout=connector.output_layout(), **overrides),
                    cfg.incremental(incremental))


def run_statements(target: str | Connector | None = None, *, config: ConfigLike = None,
                   select: Sequence[str] = (), test: bool = False, incremental: bool | None = None,
                   full_refresh: bool = False, **params: Unpack[Overrides]) -> list[Statement]:
    """Every statement run() would execute (its data tests too, with `test`). A full run's need no
    connection; an incremental run's depend on the target's state, which is read (nothing written)."""
    from journeyctl.datatests import render_data_tests
    from journeyctl.preflight import preflight
    setup = on_target(target, config, incremental, **params)
    if setup.incremental:
        with setup.connector:
            setup = dataclasses.replace(setup, params=preflight(setup.connector, setup.params))
            planned = setup.plan(select, full_refresh, lambda _: None)
    else:
        planned = setup.plan(select, full_refresh, lambda _: None, offline=True)
    return [*(Statement(label, sql) for label, sql in planned.statements()),
            *(Statement(f"data test {t.name}", t.sql) for t in (render_data_tests(setup.params,
                                                                                 setup.connector.dialect)
                                                               if test else []))]


def run(target: str | Connector | None = None, *, config: ConfigLike = None, select: Sequence[str] = (),
        test: bool = False, incremental: bool | None = None, full_refresh: bool = False,
        concurrency: int | None = None, report: Report = lambda _: None,
        **params: Unpack[Overrides]) -> RunResult:
    """Build the journey tables on `target` (a name in the config, None for its default target, or
    a connector); how it went.

    Stages build into staging tables and replace the published ones only once all have succeeded.
    `incremental` (default: [pipeline] incremental) recomputes only the visitors that rows loaded
    since the last run touch, and equals a full rebuild; `full_refresh` rebuilds everything (and
    records incremental state). `concurrency` stages run at once, each on its own connection
    (default: the target's `concurrency`, else the engine's). With `test`, the data tests then run on the new tables: their
    outcome is `result.data_tests`, and a failure raises DataTestFailed (its `result` is this
    RunResult). `report` receives progress lines (the CLI passes its stderr logger).
    """
    from journeyctl.datatests import run_data_tests
    from journeyctl.preflight import preflight
    from journeyctl.runner import execute_run
    setup = on_target(target, config, incremental, **params)
    connector = setup.connector
    report(f"connecting to {connector.describe()} …")
    with connector:
        pipeline = preflight(connector, setup.params)
        planned = dataclasses.replace(setup, params=pipeline).plan(select, full_refresh, report)
        result = execute_run(connector, planned, report, concurrency)
        if test:
            report("data tests …")
            result.data_tests = run_data_tests(connector, pipeline, report=report)
    if result.data_tests and not result.data_tests.passed:
        raise result.data_tests.error(result)
    return result


def funnel_spec(steps: Funnel | Sequence[str | Sequence[str]] | None = None, *, name: str | None = None,
                config: ConfigLike = None, **options) -> Funnel:
    """The funnel to compute: `steps` with `options`, or the saved `[funnels.NAME]` with the
    options given (not None, or a non-empty `exclude`) overriding its keys; a Funnel as it is."""
    from journeyctl.analysis.common import saved
    from journeyctl.analysis.funnel import SAVED_KEYS, Funnel
    if isinstance(steps, Funnel):
        return steps
    given = {k: v for k, v in options.items() if v is not None and not (isinstance(v, (list, tuple)) and not v)}
    if name is not None:
        body = saved(load(config), "funnels", name, SAVED_KEYS)
        saved_steps = body.pop("steps", None)
        if saved_steps is None:
            raise ConfigError(f"[funnels.{name}] has no steps", hint='add steps = ["A", "B"] to it')
        given = {**body, **given}
        steps = steps or saved_steps
    if steps is None:
        raise ConfigError("give the funnel's steps, or the name of a saved funnel")
    return Funnel.parse(steps, **given)


def _analysis_schema(config: Config, dialect: Dialect, schema: str | None, target_schema: str | None = None):
    """The schema of the published journey tables: --schema, the target's own, journeyctl.toml's."""
    return pipeline_params(config, dialect, target_schema=target_schema, schema=schema).schema


def funnel(steps: Funnel | Sequence[str | Sequence[str]] | None = None, *, name: str | None = None,
           target: str | Connector | None = None, config: ConfigLike = None, per: str | None = None,
           order: str | None = None, window: str | None = None, exclude: str | Sequence[str] = (),
           since: str | None = None, until: str | None = None, interval: str | None = None,
           schema: str | None = None, report: Report = lambda _: None) -> dict:
    """A conversion funnel over the published dbt_track_facts of `target` (journey-analysis.md):
    {"steps": [...], "time_to_convert": {...}} and, with an `interval`, "trend": [...].

    `steps` are event names, or several joined by "|" (or a Funnel from funnel_spec); `name`
    runs a saved [funnels.NAME] (the other arguments override it). `report` receives notes (a
    step name that never occurs, with the closest names). One query on the target (two with a
    trend); the events stay there.
    """
    from journeyctl.analysis.common import check_built, event_names, missing_names_note, run_query
    from journeyctl.analysis.funnel import funnel_result
    cfg = load(config)
    spec = funnel_spec(steps, name=name, config=cfg, per=per, order=order, window=window,
                       exclude=exclude, since=since, until=until, interval=interval)
    connector = target if isinstance(target, Connector) else connect(cfg.target(target))
    where = _analysis_schema(cfg, connector.dialect, schema, connector.output_schema())
    with connector:
        check_built(connector, where)
        for note in missing_names_note(spec.names, event_names(connector, where)):
            report(note)
        steps_rows = run_query(connector, spec.steps_query(where), "funnel")
        trend_rows = run_query(connector, spec.trend_query(where), "funnel trend") if spec.interval else None
    return funnel_result(steps_rows, trend_rows)


def render_funnel(steps: Funnel | Sequence[str | Sequence[str]] | None = None, *, dialect: str,
                  name: str | None = None, config: ConfigLike = None, schema: str | None = None,
                  per: str | None = None, order: str | None = None, window: str | None = None,
                  exclude: str | Sequence[str] = (), since: str | None = None, until: str | None = None,
                  interval: str | None = None) -> str:
    """The funnel's one query for `dialect`, without connecting: the step rows, or with an
    `interval` the trend rows (columns in journeyctl.analysis.funnel STEP_COLUMNS / TREND_COLUMNS)."""
    from journeyctl.analysis.common import render as render_analysis
    cfg = load(config)
    d = get_dialect(dialect)
    spec = funnel_spec(steps, name=name, config=cfg, per=per, order=order, window=window,
                       exclude=exclude, since=since, until=until, interval=interval)
    where = _analysis_schema(cfg, d, schema)
    tree = spec.trend_query(where) if spec.interval else spec.steps_query(where)
    return render_analysis(tree, d, "funnel")


class PathOptions(TypedDict, total=False):
    """A paths analysis (journey-analysis.md, "Paths"); each left out (or None) comes from the saved
    `[paths.NAME]`, then the defaults."""

    start: str | None
    """Paths from the unit's first item START (an event name or a group's name)."""
    end: str | None
    """Paths up to the unit's first item END (after START, given both)."""
    steps: int | None
    """Items per path, 2-20 (default 5; at least 3 with both anchors)."""
    per: str | None
    """"session" (default) or "visitor"."""
    exclude: Sequence[str] | None
    """Patterns (`*` the only wildcard) of events left out."""
    group: Sequence[str | tuple[str, str]] | None
    """'PATTERN=NAME' rules (or pairs), in order: an event's item is the first matching rule's name."""
    keep_repeats: bool | None
    """Keep an item equal to the previous one (by default repeats collapse)."""
    top: int | None
    min_weight: int | None
    edge_limit: int | None
    since: str | None
    until: str | None


def path_spec(name: str | None = None, config: ConfigLike = None, **options: Unpack[PathOptions]):
    """The saved paths `name` (if any) with `options` over it, validated."""
    from journeyctl.analysis.common import saved
    from journeyctl.analysis.paths import KEYS, path_spec as spec_of
    check_keys(options, KEYS, "the paths options")
    base = saved(load(config), "paths", name, KEYS) if name else {}
    where = f"[paths.{name}]" if name else "the paths options"
    return spec_of(base | {k: v for k, v in options.items() if v is not None}, where)


def paths(name: str | None = None, *, target: str | Connector | None = None, config: ConfigLike = None,
          schema: str | None = None, report: Report = lambda _: None, **options: Unpack[PathOptions]) -> dict:
    """Run a paths analysis on `target` (one query): `{"units", "paths", "edges"}` in the contract's
    order. `name` is a saved `[paths.NAME]`; `options` override it. An anchor that never occurs
    gives an empty result, and `report` gets a note naming the closest items."""
    from journeyctl.analysis.paths import run_paths
    cfg = load(config)
    spec = path_spec(name, cfg, **options)
    connector = target if isinstance(target, Connector) else connect(cfg.target(target))
    where = pipeline_params(cfg, connector.dialect, target_schema=connector.output_schema(), schema=schema).schema
    with connector:
        result = run_paths(connector, where, spec)
    for note in result.notes:
        report(note)
    return result.as_json()


def render_paths(name: str | None = None, *, dialect: str, config: ConfigLike = None, schema: str | None = None,
                 edges: bool = False, **options: Unpack[PathOptions]) -> str:
    """The paths query (`item_1, …, item_N, units`), or with `edges` the edges query, as one
    `dialect` statement, without connecting."""
    from journeyctl.analysis.paths import render_paths_sql
    cfg = load(config)
    d = get_dialect(dialect)
    return render_paths_sql(path_spec(name, cfg, **options), pipeline_params(cfg, d, schema=schema).schema, d,
                            edges=edges)
