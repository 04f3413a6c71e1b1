"""`journeyctl debug`: is a target ready for a run? A checklist, as `dbt debug` prints one.

Each check says OK or FAIL with what to do next; later checks run only where they can
(no connection, nothing to look at). Nothing is left behind on the target except the
output schema, which a run would create anyway.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Callable

from journeyctl.config import Config
from journeyctl.connectors import connect
from journeyctl.connectors.base import Connector
from journeyctl.errors import ConfigError, ExecutionError, JourneyError
from journeyctl.render import PipelineParams, render_plan
from journeyctl.names import STAGING_MARK
from journeyctl.preflight import check_source, required_columns

ParamsFor = Callable[[Connector], PipelineParams]
"""The pipeline parameters a run on this connector would use (flags, file, defaults)."""


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    hint: str | None = None
    exit_code: int = 0
    """The exit code a run would have stopped with (see `journeyctl --help`), when failed."""


@dataclass(frozen=True)
class Diagnosis:
    target: str
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def exit_code(self) -> int:
        return next((c.exit_code for c in self.checks if not c.ok), 0)

    def lines(self) -> list[str]:
        width = max(len(c.name) for c in self.checks)
        out = []
        for c in self.checks:
            out.append(f"{'OK' if c.ok else 'FAIL':<4}  {c.name:<{width}}  {c.detail}")
            if c.hint and not c.ok:
                out.append(f"{'':<4}  {'':<{width}}  → {c.hint}")
        failed = sum(not c.ok for c in self.checks)
        out.append(f"\nall {len(self.checks)} checks passed: ready to run" if not failed
                   else f"\n{failed} of {len(self.checks)} checks failed")
        return out


def _failed(name: str, error: Exception, connector: Connector | None = None) -> Check:
    scrub = connector.scrub if connector is not None else (lambda text: text)
    if isinstance(error, JourneyError):
        return Check(name, False, scrub(str(error)), error.hint, error.exit_code)
    return Check(name, False, scrub(f"{type(error).__name__}: {str(error).strip()}"),
                 "the warehouse's own message above says why", ExecutionError.exit_code)


def diagnose(config: Config, target: str | None, params_for: ParamsFor) -> Diagnosis:
    """Check a target step by step: config, dialect, connection, source table, output schema."""
    name = target or config.default_target
    checks: list[Check] = []
    try:
        connector = connect(config.target(target))
    except ConfigError as e:
        return Diagnosis(name, [_failed("config", e)])
    where = f"from {config.path}" if config.path else "(built-in default, no journeyctl.toml)"
    checks.append(Check("config", True, f"target {name!r}, type {connector.type} {where}"))
    try:
        params = params_for(connector)
        plan = render_plan(params, connector.dialect)
    except JourneyError as e:
        checks.append(_failed("dialect", e, connector))
        return Diagnosis(name, checks)
    checks.append(Check("dialect", True, f"{connector.dialect.name}: {len(plan.steps)} stages render; "
                                         f"source {params.source}, output schema {params.schema}"))
    try:
        connector.open()
    except Exception as e:  # noqa: BLE001 — a diagnosis reports every failure, then goes on
        checks.append(_failed("connection", e, connector))
        return Diagnosis(name, checks)
    try:
        checks.append(Check("connection", True, connector.describe()))
        checks.append(_check_source(connector, params))
        checks.append(_check_output_schema(connector, params, plan.setup))
    finally:
        connector.close()
    return Diagnosis(name, checks)


def _check_source(connector: Connector, params: PipelineParams) -> Check:
    try:
        columns = check_source(connector, params)
    except Exception as e:  # noqa: BLE001
        return _failed("source table", e, connector)
    duplicates = ("received_at present: duplicates keep the earliest delivery" if "received_at" in columns
                  else "no received_at: duplicates keep any one copy")
    return Check("source table", True,
                 f"{params.source}: {', '.join(required_columns(params))} present, "
                 f"{params.timestamp_column} is {columns.get(params.timestamp_column)}; {duplicates}")


def _check_output_schema(connector: Connector, params: PipelineParams, setup: list[str]) -> Check:
    """Create the schema (as a run would) and a throw-away table in it, then drop that."""
    probe = params.schema.table(f"journeyctl_debug{STAGING_MARK}{secrets.token_hex(4)}")
    try:
        for sql in setup:
            connector.execute(sql)
        connector.create_table(probe, [("ok", "INT")])
        for sql in connector.drop_statements([probe]):
            connector.execute(sql)
    except Exception as e:  # noqa: BLE001
        failed = _failed("output schema", e, connector)
        return Check(failed.name, False, f"cannot create tables in {params.schema}: {failed.detail}",
                     "grant this user the right to create the schema (or create it yourself and grant "
                     "CREATE in it), or point --schema / [pipeline] schema elsewhere",
                     ExecutionError.exit_code)
    return Check("output schema", True, f"{params.schema}: present (created if it was missing); "
                                           "tables can be created and dropped there")
