"""journeyctl.toml + environment + flags → validated settings.

Precedence: command-line flags, then the config file, then built-in defaults. With
no file at all, a local DuckDB target (`./journey.duckdb`) serves. `${VAR}` in a
string value reads the environment, so secrets stay out of the file.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from journeyctl.errors import ConfigError
from journeyctl.layout import DEFAULT_LAYOUT, layout as layout_name
from journeyctl.names import SchemaName, TableName, column_name
from journeyctl.render import PipelineParams

CONFIG_FILE = "journeyctl.toml"
DEFAULT_TARGET = "duckdb"
DEFAULT_SCHEMA = "journey"
MAX_IDLE_TIMEOUT_MINUTES = 7 * 24 * 60
MAX_JOURNEY_LENGTH = 50

ANALYSIS_KINDS = ("funnels", "paths")
"""Saved analyses: `[funnels.NAME]`, `[paths.NAME]` (journeyctl/analysis/)."""
_TOP_KEYS = {"default_target", "pipeline", "targets", *ANALYSIS_KINDS}
_PIPELINE_KEYS = {"source", "schema", "idle_timeout_minutes", "journey_length", "incremental",
                  "lookback_hours", "identity", "placeholder_ids", "max_users_per_visitor",
                  "timestamp_column", "layout"}
DEFAULT_LOOKBACK_HOURS = 6
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def check_keys(given: Mapping[str, Any], allowed: set[str], where: str) -> None:
    """Reject unknown keys, suggesting the closest allowed one."""
    for key in given:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"allowed keys: {', '.join(sorted(allowed))}"
            raise ConfigError(f"unknown key {key!r} in {where}", hint=hint)


def expand_env(value: Any, where: str, environ: Mapping[str, str]) -> Any:
    """Replace ${VAR} in strings (recursively) from the environment."""
    if isinstance(value, str):
        def lookup(m: re.Match) -> str:
            if m.group(1) not in environ:
                raise ConfigError(f"{where} reads ${{{m.group(1)}}}, which is not set in the environment",
                                  hint=f"export {m.group(1)}=… before running journeyctl")
            return environ[m.group(1)]
        return _ENV_REF.sub(lookup, value)
    if isinstance(value, dict):
        return {k: expand_env(v, f"{where}.{k}", environ) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, where, environ) for v in value]
    return value


def idle_timeout(value: Any, where: str = "idle_timeout_minutes") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{where} must be a number of minutes, got {value!r}")
    if not 0 < value <= MAX_IDLE_TIMEOUT_MINUTES:
        raise ConfigError(f"{where} must be > 0 and at most {MAX_IDLE_TIMEOUT_MINUTES} (a week), got {value}")
    return int(value) if float(value).is_integer() else float(value)


def journey_length(value: Any, where: str = "journey_length") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where} must be a whole number, got {value!r}")
    if not 2 <= value <= MAX_JOURNEY_LENGTH:
        raise ConfigError(f"{where} must be between 2 and {MAX_JOURNEY_LENGTH}, got {value}")
    return value


def lookback_hours(value: Any, where: str = "lookback_hours") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{where} must be a number of hours, got {value!r}")
    if not 0 <= value <= 24 * 365:
        raise ConfigError(f"{where} must be between 0 and {24 * 365} (a year), got {value}")
    return value


def flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false, got {value!r}")
    return value


IDENTITY_MODES = ("latest_user", "graph")


def identity_mode(value: Any, where: str = "identity") -> str:
    """How ids become visitors: the default rule, or connected components (journey-semantics.md)."""
    if value not in IDENTITY_MODES:
        raise ConfigError(f"{where} must be one of {', '.join(map(repr, IDENTITY_MODES))}, got {value!r}")
    return value


def placeholder_ids(value: Any, where: str = "placeholder_ids") -> tuple[str, ...]:
    """Extra ids that join nothing in graph mode (compared trimmed and ASCII-lower-cased)."""
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings, got {value!r}",
                          hint='e.g. placeholder_ids = ["guest", "anonymous"]')
    return tuple(value)


def max_users_per_visitor(value: Any, where: str = "max_users_per_visitor") -> int:
    """The graph mode's guardrail: a component with more user ids keeps the default rule."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where} must be a whole number >= 1, got {value!r}")
    return value


@dataclass(frozen=True)
class Target:
    """A named place to run: its connector type and that connector's options."""

    name: str
    type: str
    options: dict[str, Any] = field(default_factory=dict)
    base_dir: Path = field(default_factory=Path.cwd)
    """Where relative paths in the options start: the config file's folder."""


@dataclass(frozen=True)
class Config:
    path: Path | None
    default_target: str
    pipeline: dict[str, Any]
    targets: dict[str, Target]
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    analyses: Mapping[str, Mapping[str, dict]] = field(default_factory=dict)
    """Saved analyses by kind ("funnels", "paths") and name; their keys are checked where used."""

    def target(self, name: str | None) -> Target:
        name = name or self.default_target
        if name not in self.targets:
            known = ", ".join(sorted(self.targets)) or "none"
            where = f"in {self.path}" if self.path else "(no journeyctl.toml found)"
            raise ConfigError(f"no target named {name!r} {where}; targets: {known}",
                              hint="add a [targets.NAME] table to journeyctl.toml")
        target = self.targets[name]
        return Target(target.name, target.type,
                      expand_env(target.options, f"targets.{name}", self.environ), target.base_dir)

    def pipeline_params(self, dialect_default_source: str, source: str | None = None,
                        schema: str | None = None, idle_timeout_minutes: float | None = None,
                        journey_length_: int | None = None,
                        target_schema: str | None = None,
                        identity: str | None = None,
                        timestamp_column: str | None = None, layout: str | None = None,
                        target_layout: str | None = None) -> PipelineParams:
        """The pipeline's parameters: flags over the target's own schema (and layout) over the file
        over defaults."""
        p = self.pipeline
        return PipelineParams(
            source=TableName.parse(source or p.get("source") or dialect_default_source, "source"),
            schema=SchemaName.parse(schema or target_schema or p.get("schema") or DEFAULT_SCHEMA,
                                    "schema"),
            idle_timeout_minutes=idle_timeout(
                idle_timeout_minutes if idle_timeout_minutes is not None
                else p.get("idle_timeout_minutes", 30)),
            journey_length=journey_length(
                journey_length_ if journey_length_ is not None else p.get("journey_length", 5)),
            lookback_hours=lookback_hours(p.get("lookback_hours", DEFAULT_LOOKBACK_HOURS)),
            identity=identity_mode(identity, "--identity") if identity is not None
            else identity_mode(p.get("identity", "latest_user"), "[pipeline] identity"),
            placeholder_ids=placeholder_ids(p.get("placeholder_ids", []), "[pipeline] placeholder_ids"),
            max_users_per_visitor=max_users_per_visitor(p.get("max_users_per_visitor", 50),
                                                        "[pipeline] max_users_per_visitor"),
            timestamp_column=column_name(timestamp_column or p.get("timestamp_column", "timestamp"),
                                         "timestamp_column"),
            layout=layout_name(layout, "--layout") if layout is not None
            else layout_name(target_layout, "the target's layout") if target_layout is not None
            else layout_name(p.get("layout", DEFAULT_LAYOUT), "[pipeline] layout"),
        )

    def incremental(self, flag_value: bool | None = None) -> bool:
        """--incremental / --full-refresh, else [pipeline] incremental (default false)."""
        if flag_value is not None:
            return flag_value
        return flag(self.pipeline.get("incremental", False), "[pipeline] incremental")


def find_config(explicit: str | None, environ: Mapping[str, str] = os.environ) -> Path | None:
    """--config, then $JOURNEYCTL_CONFIG, then ./journeyctl.toml; None when there is none."""
    chosen = explicit or environ.get("JOURNEYCTL_CONFIG")
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        return path
    local = Path.cwd() / CONFIG_FILE
    return local if local.is_file() else None


def load_config(explicit: str | None = None, environ: Mapping[str, str] = os.environ) -> Config:
    path = find_config(explicit, environ)
    if path is None:
        return Config(path=None, default_target=DEFAULT_TARGET, pipeline={},
                      targets={DEFAULT_TARGET: Target(DEFAULT_TARGET, "duckdb", {"path": "journey.duckdb"})},
                      environ=environ)
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}")
    check_keys(raw, _TOP_KEYS, str(path))
    pipeline = raw.get("pipeline", {})
    if not isinstance(pipeline, dict):
        raise ConfigError(f"{path}: [pipeline] must be a table")
    check_keys(pipeline, _PIPELINE_KEYS, f"{path} [pipeline]")
    pipeline = expand_env(pipeline, "pipeline", environ)
    targets = {}
    for name, body in raw.get("targets", {}).items():
        if not isinstance(body, dict) or "type" not in body:
            raise ConfigError(f"{path}: [targets.{name}] needs a type, e.g. type = \"duckdb\"")
        targets[name] = Target(name, str(body["type"]), {k: v for k, v in body.items() if k != "type"},
                               path.parent.resolve())
    analyses = {kind: _analyses(raw.get(kind, {}), kind, path, environ) for kind in ANALYSIS_KINDS}
    default = raw.get("default_target") or (next(iter(targets)) if len(targets) == 1 else DEFAULT_TARGET)
    if not targets:
        targets[DEFAULT_TARGET] = Target(DEFAULT_TARGET, "duckdb", {"path": "journey.duckdb"})
    return Config(path=path, default_target=default, pipeline=pipeline, targets=targets,
                  environ=environ, analyses=analyses)


def _analyses(section: Any, kind: str, path: Path, environ: Mapping[str, str]) -> dict[str, dict]:
    """`[kind.NAME]` tables, each a table of options."""
    if not isinstance(section, dict) or not all(isinstance(v, dict) for v in section.values()):
        raise ConfigError(f"{path}: [{kind}] must hold named tables, e.g. [{kind}.checkout]")
    return {name: expand_env(body, f"{kind}.{name}", environ) for name, body in section.items()}
