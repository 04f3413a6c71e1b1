"""Executes a rendered pipeline through a connector, safely.

Every stage is built under a staging name unique to this run; only when all have
succeeded are the published tables replaced, in one step the connector makes atomic.
A failure (or an interrupt) drops this run's staging tables and leaves the published
ones exactly as they were.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from journeyctl.connectors.base import Connector
from journeyctl.errors import ExecutionError
from journeyctl.identity import WORK_MARK, graph_aliases_step
from journeyctl.layout import publication, relations
from journeyctl.names import STAGING_MARK
from journeyctl.render import PipelineParams, Plan, Step, render_plan, render_query
from journeyctl.scheduler import run_steps

if TYPE_CHECKING:
    from journeyctl.datatests import DataTestRun

STAGING_PATTERN = re.compile(rf"(?i).+{STAGING_MARK}[0-9a-f]{{8}}({WORK_MARK}\w+)?")
"""A run's staging tables, and the identity graph's working tables named after them."""
PROCEDURES = {"identity_graph": graph_aliases_step}
"""The steps templates name in config(procedure=…): (connector, input, output, params, report)."""
Report = Callable[[str], None]


@dataclass
class StageResult:
    stage: str
    table: str
    seconds: float
    rows: int | None


@dataclass
class IncrementalSummary:
    """What an incremental run (or the full build that starts one) did."""

    mode: str
    """"incremental", or "full" (with the reason)."""
    reason: str | None = None
    state_advanced: bool = True
    """False when --select left tables out: the state and kept events stay, the next run redoes it."""
    rows_read: int | None = None
    events_changed: int | None = None
    visitors_affected: int | None = None
    rows_replaced: dict[str, dict[str, int]] = field(default_factory=dict)
    high_water_mark: object = None
    unseen_rows: int | None = None
    """Source rows whose received_at is NULL: no incremental run reads them; --full-refresh does."""

    def as_json(self) -> dict:
        return vars(self) | {"high_water_mark": None if self.high_water_mark is None
                             else str(self.high_water_mark)}


@dataclass
class RunResult:
    target: str
    dialect: str
    seconds: float = 0.0
    stages: list[StageResult] = field(default_factory=list)
    source_rows: int | None = None
    unusable_rows: int | None = None
    """Rows rule 1 of the contract leaves out (no id, no timestamp, or no visitor)."""
    duplicate_rows: int | None = None
    """Extra deliveries of an id that rule 2 collapsed."""
    incremental: IncrementalSummary | None = None
    identity: dict | None = None
    """What the identity graph found (identity = "graph")."""
    data_tests: DataTestRun | None = None
    """The data tests run on the new tables, when asked for."""

    def as_json(self) -> dict:
        tests = {"data_tests": self.data_tests.as_json()} if self.data_tests else {}
        return {
            "target": self.target,
            "dialect": self.dialect,
            "seconds": round(self.seconds, 3),
            "source_rows": self.source_rows,
            "unusable_rows": self.unusable_rows,
            "duplicate_rows": self.duplicate_rows,
            "stages": [vars(s) | {"seconds": round(s.seconds, 3)} for s in self.stages],
            **({"incremental": self.incremental.as_json()} if self.incremental else {}),
            **({"identity": self.identity} if self.identity else {}),
        } | tests


@dataclass(frozen=True)
class RunPlan:
    """Everything a run executes, in order: the pipeline into staging, then publish."""

    plan: Plan
    publish: list[str]
    incremental: bool = False
    """The publish applies changes to the published tables in one transaction (DML only)."""
    check: Callable[[Connector], None] | None = None
    """Run inside that transaction, before COMMIT; raising rolls it back."""
    before_publish: Callable[[Connector, RunResult], None] | None = None

    def statements(self) -> list[tuple[str, str]]:
        """(label, sql) pairs in execution order, for --dry-run."""
        return [
            *(("setup", s) for s in self.plan.setup),
            *((f"stage {step.stage}", s) for step in self.plan.steps if step.view_query is None
              for s in step.statements),
            *(("apply (one transaction)" if self.incremental else "publish", s) for s in self.publish),
            *(("cleanup", s) for s in self.plan.cleanup),
        ]


def plan_run(connector: Connector, params: PipelineParams, select: tuple[str, ...] = (),
             run_id: str | None = None, offline: bool = False) -> RunPlan:
    """The selected stages rendered into this run's staging tables, and how to publish them
    (`offline`, for a dry run that does not connect: as if the schema held this layout)."""
    run_id = run_id or secrets.token_hex(4)
    plan = render_plan(params, connector.dialect, select, staging_suffix=STAGING_MARK + run_id,
                       run_vars={"run_id": run_id})
    return RunPlan(plan=plan, publish=publish_statements(connector, plan, offline=offline))


def publish_statements(connector: Connector, plan: Plan, last: str | None = None,
                       offline: bool = False) -> list[str]:
    """How the connector puts the published tables and views in place (from what the output schema
    holds now, unless `offline`); stage `last` last."""
    existing = None if offline else relations(connector, plan.params.schema)
    return connector.publish_statements(publication(plan, existing, last))


def execute_run(connector: Connector, run: RunPlan, report: Report = lambda _: None,
                concurrency: int | None = None) -> RunResult:
    """Run `run` on an open connector, `concurrency` stages at once (default: the target's); on any
    failure drop this run's staging tables."""
    plan = run.plan
    result = RunResult(target=connector.target.name, dialect=plan.dialect.name)
    started = time.perf_counter()
    try:
        for sql in plan.setup:
            _execute(connector, sql, "setup")
        _drop_orphans(connector, plan, report)
        number = {s.stage: i for i, s in enumerate(plan.steps, 1)}

        def build(on: Connector, step: Step) -> None:
            i = f"[{number[step.stage]}/{len(plan.steps)}]"
            report(f"{i} {step.stage} …")
            t0 = time.perf_counter()
            for sql in step.statements:
                _execute(on, sql, step.stage)
            if step.procedure:
                stats = PROCEDURES[step.procedure](on, step.input_table, step.table, plan.params, report)
                result.identity = stats.as_json()
            rows = on.count_rows(step.table)
            seconds = time.perf_counter() - t0
            result.stages.append(StageResult(step.stage, str(step.published_table), seconds, rows))
            report(f"{i} {step.stage}: {rows:,} rows in {seconds:.2f} s")

        run_steps(connector, [s for s in plan.steps if s.view_query is None], build,
                  connector.allowed_concurrency(concurrency, "--concurrency") if concurrency
                  else connector.concurrency)
        rows = {s.stage: s.rows for s in result.stages}
        result.stages += [StageResult(s.stage, str(s.published_table), 0.0, rows.get(s.inputs[0]))
                          for s in plan.steps if s.view_query is not None]  # a view has its table's rows
        if run.before_publish is not None:
            run.before_publish(connector, result)
        execute = lambda sql: _execute(connector, sql, "publish")  # noqa: E731
        if run.incremental:
            connector.run_transaction(run.publish, _counting(execute, report, len(run.publish) + 2),
                                      run.check and (lambda: run.check(connector)))
        else:
            report("publishing …")
            connector.run_publish(run.publish, execute)
    except BaseException:
        _drop_quietly(connector, [t for s in plan.steps for t in (s.table, s.input_table) if t])
        raise
    for sql in plan.cleanup:
        _execute(connector, sql, "cleanup")
    if not run.incremental:  # an incremental run's journey_events holds the affected visitors only
        _profile_source(connector, plan, result)
    result.seconds = time.perf_counter() - started
    return result


def _counting(execute: Callable[[str], None], report: Report, total: int) -> Callable[[str], None]:
    """`execute`, telling progress before each statement of a transaction (BEGIN … COMMIT)."""
    done = 0

    def step(sql: str) -> None:
        nonlocal done
        done += 1
        report(f"applying the changes ({done}/{total}) …")
        execute(sql)
    return step


def _profile_source(connector: Connector, plan: Plan, result: RunResult) -> None:
    """Count what the contract's input rules left out, when the whole pipeline ran."""
    events = {s.stage: s.rows for s in result.stages}.get("journey_events")
    if events is None:
        return
    sql = render_query("report/source_profile.sql", plan.params, plan.dialect)
    source_rows, unusable = (int(v) for v in connector.query(sql)[0])
    result.source_rows, result.unusable_rows = source_rows, unusable
    result.duplicate_rows = source_rows - unusable - events


def _drop_orphans(connector: Connector, plan: Plan, report: Report) -> None:
    """Staging tables left by a killed run: dropped where no other run can be live."""
    orphans = [t for t in connector.tables_in_schema(plan.params.schema)
               if STAGING_PATTERN.fullmatch(t.name)
               and t.name not in {s.table.name for s in plan.steps}]
    if not orphans:
        return
    if connector.single_writer:
        report(f"dropping {len(orphans)} staging table(s) left by an interrupted run")
        for sql in connector.drop_statements(orphans):
            _execute(connector, sql, "setup")
    else:
        report(f"note: {len(orphans)} staging table(s) from other or interrupted runs exist in "
               f"{plan.params.schema} ({', '.join(t.name for t in orphans[:3])}…); "
               "drop them once no other run is active")


def _execute(connector: Connector, sql: str, stage: str) -> None:
    try:
        connector.execute(sql)
    except ExecutionError:
        raise
    except Exception as e:  # the warehouse client's own error, whatever its class
        raise connector.execution_error(e, sql, stage) from e


def _drop_quietly(connector: Connector, tables) -> None:
    """Best-effort cleanup after a failure: the original error is what the user needs."""
    for sql in connector.drop_statements(tables):
        try:
            connector.execute(sql)
        except Exception:
            pass
