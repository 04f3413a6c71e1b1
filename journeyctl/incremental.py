"""Incremental runs: recompute only the visitors that newly loaded source rows touch.

The contract asks that any sequence of incremental runs leave the five tables equal to a full
run over the same source rows. Rather than patching rows, a run finds the *affected visitors*
and recomputes each one's rows from a point before which nothing changes, with the pipeline's
own stage templates restricted to them; the rows that changed are then replaced in one
transaction:

1. `incremental/` templates, into this run's staging tables (on DuckDB, in an in-memory
   scratch database: they need no durability, as a rerun rebuilds them): the rows loaded
   since the high-water mark minus the lookback (`inc_batch`); the ids whose counted copy (rule 2,
   weighed against the kept copy) is new or changed (`inc_changes`); every id such an event
   names, old version and new (`inc_touched`: the only aliases whose visitor can move); their
   new mapping (`inc_alias_delta`); the old and new visitor of each (`inc_visitors`); for each
   visitor whose events change, the time its rows are replaced from (`inc_replace_from`): the
   start of its last session before its earliest changed event. Nothing before that event
   changes, so neither does any row before that session, and the published tables already
   hold what the rows after it are counted on from: the sessions before it, and the visitor's
   event before it. Then those visitors' events from that time on, as they will be (`inc_events`).
2. The journey stages (journey_events and the four event tables, or, in the views layout,
   journey_events published as dbt_journey_events and dbt_session_tracks), rendered from the same
   templates as a full run, with `inc_events` as their source; journey_events numbers each
   visitor's sessions on from its sessions before, and takes the first gap from its event before.
3. One transaction: delete those visitors' rows from their replace_from on and insert the
   recomputed ones, update the kept events (`journeyctl_events`) and move the state
   (`journeyctl_state`); where DDL is transactional, drop the run's working tables there too. A
   concurrent run that applied first is detected (the state row it replaced is gone) and this
   one rolls back.

Without state, or when anything that shapes the rows changed (the state's fingerprint), the run
is a full build that also writes the kept events and the state.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from typing import Callable

from sqlglot import exp

from journeyctl.connectors.base import Connector
from journeyctl.dialects import Dialect
from journeyctl.errors import ConfigError, ExecutionError
from journeyctl.names import STAGING_MARK, TableName
from journeyctl.plancache import cached_render_plan
from journeyctl.render import PipelineParams, Plan, render_plan
from journeyctl.runner import IncrementalSummary, RunPlan, RunResult, plan_run, publish_statements
from journeyctl.stages import dependency_order, render_templates, select_stages

STATE = "journeyctl_state"
EVENTS = "journeyctl_events"
ALIASES = "dbt_aliases_mapping"
FOLDER = "incremental"
REPLACE_FROM = "inc_replace_from"
SCRATCH_SUFFIX = STAGING_MARK + "scratch"
SESSION_ROW_KEY = ("session_id", "session_start_at")
EVENT_ROW_KEY = ("event_id", "timestamp")
Report = Callable[[str], None]


@dataclass(frozen=True)
class State:
    fingerprint: str
    settings: str
    run_id: str
    has_mark: bool
    """Whether a high-water mark is recorded (none until a run reads a row with received_at)."""


def read_state(connector: Connector, params: PipelineParams) -> State | None:
    """The state the last incremental run left in the output schema, if any (one row)."""
    table = params.table_for(STATE)
    if connector.columns(table) is None:
        return None
    rows = connector.query(connector.render(
        exp.select("fingerprint", "settings", "run_id", "high_water_mark").from_(table.to_table())))
    if len(rows) != 1:
        return None
    fingerprint, settings, run_id, mark = rows[0]
    return State(str(fingerprint), str(settings), str(run_id), mark is not None)


def full_build_reason(state: State | None, params: PipelineParams, full_refresh: bool) -> str | None:
    """Why this run must rebuild everything, or None when it can be incremental."""
    if full_refresh:
        return "--full-refresh"
    if state is None:
        return f"no incremental state in {params.schema} yet"
    if state.fingerprint != params.fingerprint():
        was = dict(part.split("=", 1) for part in state.settings.split("; ") if "=" in part)
        now = dict(part.split("=", 1) for part in params.settings().split("; "))
        changed = [f"{k} {was.get(k, '?')} -> {v}" for k, v in now.items() if was.get(k) != v]
        return "settings changed since the last run: " + ", ".join(changed or ["(unknown)"])
    return None


def plan_incremental_run(connector: Connector, params: PipelineParams, select: tuple[str, ...] = (),
                         full_refresh: bool = False, run_id: str | None = None,
                         report: Report = lambda _: None) -> RunPlan:
    """An incremental run when the target's state allows, else a full build that records state."""
    if not params.has_received_at:
        raise ConfigError(f"source table {params.source} has no received_at column, so an incremental "
                          "run cannot tell which rows are new",
                          hint="run without --incremental (and set [pipeline] incremental = false)")
    if not connector.transactional_dml:
        raise ConfigError(f"{connector.describe()} cannot run incrementally: an incremental run replaces "
                          f"rows of several tables in one transaction, which {connector.type} does not "
                          "have", hint="run without --incremental (and set [pipeline] incremental = false)")
    params = dataclasses.replace(params, incremental=True)
    run_id = run_id or secrets.token_hex(4)
    state = read_state(connector, params)
    reason = full_build_reason(state, params, full_refresh)
    if reason is not None:
        report(f"incremental: full build ({reason})")
        return _full_build(connector, params, select, run_id, reason)
    report(f"incremental: recomputing the visitors that rows loaded since the last run "
           f"(minus {params.lookback_hours:g} h) touch")
    return _increment(connector, params, select, run_id, state)


def _full_build(connector: Connector, params: PipelineParams, select: tuple[str, ...], run_id: str,
                reason: str) -> RunPlan:
    """The whole pipeline plus the kept events and the state. The old state is dropped first and
    the new one published last, so a publish cut short (non-transactional warehouses) leaves no
    state, and the next run builds in full again."""
    run = plan_run(connector, params, select, run_id)
    builds_state = any(s.stage == STATE for s in run.plan.steps)
    publish = run.publish
    if builds_state:
        publish = [*connector.drop_statements([params.table_for(STATE)]),
                   *publish_statements(connector, run.plan, last=STATE)]

    def summarize(c: Connector, result: RunResult) -> None:
        summary = IncrementalSummary(mode="full", reason=reason, state_advanced=builds_state)
        if builds_state:
            staged = next(s.table for s in run.plan.steps if s.stage == STATE)
            summary.high_water_mark = _scalar(c, exp.select("high_water_mark").from_(staged.to_table()))
        result.incremental = summary

    return dataclasses.replace(run, publish=publish, before_publish=summarize)


def _increment(connector: Connector, params: PipelineParams, select: tuple[str, ...], run_id: str,
               state: State) -> RunPlan:
    dialect = connector.dialect
    main = dependency_order(render_templates(params.template_params()).values())
    published = [t.name for t in main if t.published]
    chosen = set(select_stages(main, select))
    scratch = connector.scratch_schema(params.schema)
    staging = scratch or params.schema
    # In a private scratch schema no other run meets this run's working tables, so their names
    # need not carry its id; then both plans are the same on every run with these settings,
    # and are kept between runs (rendering them is a tenth of a run at 2M events).
    suffix, render = ((SCRATCH_SUFFIX, cached_render_plan) if scratch
                      else (STAGING_MARK + run_id, render_plan))
    changes = render(params, dialect, staging_suffix=suffix, folder=FOLDER, outside=published,
                     run_vars={"state_has_mark": state.has_mark}, staging_schema=staging)

    def staged(stage: str) -> TableName:
        return staging.table(stage + suffix)

    journeys = render(
        dataclasses.replace(params, source=staged("inc_events"), timestamp_column="timestamp",
                            incremental=False), dialect,
        ("journey_events+",), staging_suffix=suffix, outside=[REPLACE_FROM],
        inputs={ALIASES: staged("inc_mapping"), REPLACE_FROM: staged(REPLACE_FROM)},
        run_vars={"rows_from": REPLACE_FROM}, staging_schema=staging)
    event_tables = [s for s in journeys.steps
                    if s.published and s.view_query is None and s.stage in chosen]  # views: nothing to apply
    whole = set(published) <= chosen  # else only the chosen tables move; state and kept events stay

    apply: list[exp.Expression] = []
    if whole:
        apply += [exp.delete(params.table_for(STATE).to_table(),
                             where=exp.column("run_id").eq(exp.Literal.string(state.run_id))),
                  exp.insert(exp.select(exp.Star(), exp.Literal.string(run_id)).from_(  # run_id last
                      staged("inc_state").to_table()), params.table_for(STATE).to_table())]
    if ALIASES in chosen:
        apply += [_delete_in(params.table_for(ALIASES), "alias", staged("inc_touched")),
                  _insert_all(params.table_for(ALIASES), staged("inc_alias_delta"))]
    for step in event_tables:
        apply += [_delete_replaced(dialect, step.published_table, staged(REPLACE_FROM)),
                  _insert_all(step.published_table, step.table)]
    if whole:
        apply += [_delete_in(params.table_for(EVENTS), "id", staged("inc_changes")),
                  _insert_all(params.table_for(EVENTS), staged("inc_changes"))]

    publish = [connector.render(s) for s in apply]
    cleanup = [*changes.cleanup, *journeys.cleanup, *connector.drop_statements(s.table for s in event_tables)]
    if connector.transactional_ddl and scratch is None:
        # The working tables go in the same commit: a run killed right after it leaves none
        # behind. (Scratch ones are in another database, which that transaction cannot write.)
        publish, cleanup = [*publish, *cleanup], []
    reads_changes = ("inc_events", "inc_mapping", REPLACE_FROM)  # the journey stages' inputs
    plan = Plan(dialect=dialect, params=params, setup=changes.setup,
                steps=[*changes.steps,
                       *(dataclasses.replace(s, after=(*s.after, *reads_changes)) for s in journeys.steps)],
                cleanup=cleanup)

    def summarize(c: Connector, result: RunResult) -> None:
        def count(table: TableName, where: exp.Expression | None = None) -> int:
            query = exp.select(exp.Count(this=exp.Star())).from_(table.to_table())
            return int(_scalar(c, query.where(where) if where is not None else query))

        replaced = {ALIASES: {"removed": count(params.table_for(ALIASES),
                                               _in_query("alias", staged("inc_touched"))),
                              "written": count(staged("inc_alias_delta"))}} if ALIASES in chosen else {}
        for step in event_tables:
            removed = _scalar(c, _count_replaced(step.published_table, staged(REPLACE_FROM)))
            replaced[step.published_table.name] = {"removed": int(removed), "written": count(step.table)}
        source_received = exp.column("received_at").is_(exp.null())
        result.incremental = IncrementalSummary(
            mode="incremental", state_advanced=whole,
            rows_read=count(staged("inc_batch")), events_changed=count(staged("inc_changes")),
            visitors_affected=count(staged(REPLACE_FROM)), rows_replaced=replaced,
            high_water_mark=_scalar(c, exp.select("high_water_mark").from_(staged("inc_state").to_table())),
            unseen_rows=count(params.source, source_received))

    def check(c: Connector) -> None:
        rows = int(_scalar(c, exp.select(exp.Count(this=exp.Star())).from_(params.table_for(STATE).to_table())))
        if rows != 1:
            raise ExecutionError(
                f"another incremental run applied its changes to {params.schema} on {c.describe()} "
                "while this one was running; this run's changes were rolled back",
                hint="run again: the next run starts from the other run's state")

    return RunPlan(plan=plan, publish=publish, incremental=True,
                   check=check if whole else None, before_publish=summarize)


def _in_query(column: str, table: TableName) -> exp.Expression:
    return exp.column(column).isin(query=exp.select(column).from_(table.to_table()))


def _row_key(table: TableName) -> tuple[str, str]:
    """A published event table's key and time columns, by which its rows are replaced: one row
    per session in dbt_session_tracks, per event in the others."""
    return SESSION_ROW_KEY if table.name == "dbt_session_tracks" else EVENT_ROW_KEY


def _replaced(table: TableName, replace_from: TableName, own: str) -> tuple[exp.Table, exp.Expression]:
    """What picks the rows of a published event table that a run replaces: each affected
    visitor's rows from its `replace_from` time on (sessions by their start). A join: the
    replaced visitors, and the condition on them and the table (named `own` in the query)."""
    time = _row_key(table)[1]
    return replace_from.to_table().as_("replaced"), exp.and_(
        exp.column("dbt_visitor_id", "replaced").eq(exp.column("dbt_visitor_id", own)),
        exp.column(time, own) >= exp.column("replace_from", "replaced"))


def _count_replaced(table: TableName, replace_from: TableName) -> exp.Select:
    replaced, on = _replaced(table, replace_from, "t")
    return exp.select(exp.Count(this=exp.Star())).from_(table.to_table().as_("t")).join(replaced, on=on)


def _delete_replaced(dialect: Dialect, table: TableName, replace_from: TableName) -> exp.Delete:
    """DELETE … USING the join (one pass); where there is none, the rows' key IN that join (no
    correlated subquery: engines run those row by row, DuckDB 4x slower)."""
    if dialect.delete_using:  # the target cannot take an alias everywhere (Redshift)
        replaced, on = _replaced(table, replace_from, table.name)
        return exp.Delete(this=table.to_table(), using=[replaced], where=exp.Where(this=on))
    key = _row_key(table)[0]
    replaced, on = _replaced(table, replace_from, "t")
    rows = exp.select(exp.column(key, "t")).from_(table.to_table().as_("t")).join(replaced, on=on)
    return exp.delete(table.to_table(), where=exp.column(key).isin(query=rows))


def _delete_in(table: TableName, column: str, keys: TableName) -> exp.Delete:
    return exp.delete(table.to_table(), where=_in_query(column, keys))


def _insert_all(table: TableName, rows: TableName) -> exp.Insert:
    """INSERT of every column: `rows` was built by a template with `table`'s columns, in order."""
    return exp.insert(exp.select(exp.Star()).from_(rows.to_table()), table.to_table())


def _scalar(connector: Connector, query: exp.Expression):
    return connector.query(connector.render(query))[0][0]
