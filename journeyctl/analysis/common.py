"""What every analysis shares (journey-analysis.md, "Common ground"): units, durations, date
ranges, event names as literals, the table read, and saved analyses in journeyctl.toml.

Everything user-given reaches SQL as sqlglot nodes (a name as a string literal, an instant as a
cast literal), never as text pasted into SQL.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Iterable, Mapping, Sequence

from sqlglot import exp

from journeyctl.config import Config, check_keys
from journeyctl.connectors.base import Connector
from journeyctl.dialects import Dialect
from journeyctl.errors import ConfigError
from journeyctl.names import SchemaName
from journeyctl.render import generate

FACTS = "dbt_track_facts"
"""The table every analysis reads: counted, deduplicated, visitor-mapped events with sessions."""
UNITS = {"visitor": "dbt_visitor_id", "session": "session_id"}
"""What is counted (`per`) → the dbt_track_facts column naming it."""
ORDER = ("timestamp", "event_id")
"""A unit's events in this order (the contract's order; ties broken by event_id)."""

_DURATION = re.compile(r"([0-9]+)([smhdw])")
MICROSECONDS = {"s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000,
                "w": 604_800_000_000}


def unit_column(per: str, where: str = "--per") -> str:
    """The column a unit is identified by; ConfigError for an unknown unit."""
    if per not in UNITS:
        raise ConfigError(f"{where} must be one of {', '.join(UNITS)}, got {per!r}")
    return UNITS[per]


def duration_microseconds(text: Any, where: str = "--window") -> int:
    """A duration such as 90s, 30m, 2h, 14d or 1w, in microseconds (positive)."""
    match = _DURATION.fullmatch(text) if isinstance(text, str) else None
    if match is None or int(match.group(1)) == 0:
        raise ConfigError(f"{where} must be a positive whole number and a unit (s, m, h, d or w), "
                          f"such as 90s, 30m, 2h, 14d or 1w; got {text!r}")
    return int(match.group(1)) * MICROSECONDS[match.group(2)]


def instant(value: Any, where: str) -> datetime:
    """An ISO date or timestamp as a UTC instant (naive values are UTC; offsets are converted)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        try:
            parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(f"{where} must be an ISO date or timestamp (UTC), such as 2024-03-01 "
                              f"or 2024-03-01T12:00:00; got {value!r}") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def timestamp_literal(value: datetime) -> exp.Expression:
    """A UTC instant as a typed literal (ClickHouse's TIMESTAMP is DateTime64(6, 'UTC'))."""
    return exp.cast(exp.Literal.string(value.isoformat(sep=" ", timespec="microseconds")),
                    exp.DataType.build("TIMESTAMP"))


@dataclass(frozen=True)
class DateRange:
    """Events from `since` (inclusive) to `until` (exclusive), UTC; either may be left out."""

    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def parse(cls, since: Any = None, until: Any = None) -> DateRange:
        bounds = cls(since=None if since is None else instant(since, "--since"),
                     until=None if until is None else instant(until, "--until"))
        if bounds.since is not None and bounds.until is not None and bounds.since >= bounds.until:
            raise ConfigError(f"--since ({bounds.since}) must be before --until ({bounds.until})",
                              hint="since is inclusive and until exclusive: --since 2024-03-01 "
                                   "--until 2024-04-01 is March")
        return bounds

    def condition(self, column: exp.Expression) -> exp.Expression | None:
        """`column` within the range, or None when the range is unbounded."""
        parts = [*([exp.GTE(this=column.copy(), expression=timestamp_literal(self.since))]
                   if self.since else []),
                 *([exp.LT(this=column.copy(), expression=timestamp_literal(self.until))]
                   if self.until else [])]
        return exp.and_(*parts) if parts else None

    def as_json(self) -> dict:
        return {"since": self.since and self.since.isoformat(), "until": self.until and self.until.isoformat()}


def name_literal(name: str) -> exp.Literal:
    """An event name as a string literal node: the generator escapes it for each dialect."""
    return exp.Literal.string(name)


def is_one_of(column: exp.Expression, names: Iterable[str]) -> exp.Expression:
    """`column` equals one of `names` (exact, case-sensitive; never LIKE)."""
    names = list(dict.fromkeys(names))
    if len(names) == 1:
        return exp.EQ(this=column.copy(), expression=name_literal(names[0]))
    return exp.In(this=column.copy(), expressions=[name_literal(n) for n in names])


def microseconds_between(earlier: exp.Expression, later: exp.Expression) -> exp.Expression:
    """The exact difference later − earlier in whole microseconds (dialects.py rewrites it per
    engine, exact in any session zone)."""
    return exp.TimestampDiff(this=later, expression=earlier, unit=exp.var("MICROSECOND"))


def seconds(microseconds: exp.Expression) -> exp.Expression:
    """Microseconds as seconds, a double (the contract's reported durations)."""
    return exp.Div(this=exp.cast(microseconds, exp.DataType.build("DOUBLE")),
                   expression=exp.Literal.number("1000000.0"))


def facts_table(schema: SchemaName) -> exp.Table:
    return schema.table(FACTS).to_table()


def check_built(connector: Connector, schema: SchemaName) -> None:
    """The analyses read dbt_track_facts: a missing one is a usage error, said before any query."""
    if connector.columns(schema.table(FACTS)) is None:
        raise ConfigError(f"schema {schema} on {connector.describe()} has no {FACTS} (no journey tables yet)",
                          hint="build them first with `journeyctl run` (or pass the --schema they are in)")


def event_names(connector: Connector, schema: SchemaName) -> list[str]:
    """Every event name in the published facts, for suggesting the closest to a name not found."""
    query = (exp.select(exp.column("event")).distinct().from_(facts_table(schema))
             .where(exp.Not(this=exp.Is(this=exp.column("event"), expression=exp.Null()))))
    return sorted(str(name) for (name,) in connector.query(generate(query, connector.dialect, "event names")))


def missing_names_note(wanted: Iterable[str], known: Sequence[str], what: str = "event",
                       where: str = FACTS) -> list[str]:
    """One note per wanted name that never occurs (in `where`), with the closest existing names."""
    present = set(known)
    notes = []
    for name in dict.fromkeys(wanted):
        if name in present:
            continue
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        suggestion = f"; closest: {', '.join(repr(c) for c in close)}" if close else ""
        notes.append(f"note: {what} {name!r} never occurs in {where}{suggestion}")
    return notes


def render(tree: exp.Expression, dialect: Dialect, what: str) -> str:
    """An analysis query as `dialect` SQL (quoted identifiers, per-dialect rewrites, refusing loss)."""
    return generate(tree, dialect, f"{what}, dialect {dialect.name}")


def run_query(connector: Connector, tree: exp.Expression, what: str) -> list[tuple]:
    """An analysis query's rows on the target; the engine's error as an ExecutionError (exit 4,
    its SQL shown with --verbose), as a run's stage would fail."""
    sql = render(tree, connector.dialect, what)
    try:
        return connector.query(sql)
    except Exception as e:
        raise connector.execution_error(e, sql, what) from e


def saved(config: Config, kind: str, name: str, keys: set[str]) -> dict[str, Any]:
    """The saved analysis `[kind.name]` of journeyctl.toml, its keys checked; ConfigError if none."""
    entries = config.analyses.get(kind, {})
    if name not in entries:
        known = ", ".join(sorted(entries)) or "none"
        where = f"in {config.path}" if config.path else "(no journeyctl.toml found)"
        raise ConfigError(f"no saved {kind[:-1] if kind.endswith('s') else kind} named {name!r} {where}; "
                          f"saved: {known}", hint=f"add a [{kind}.{name}] table to journeyctl.toml")
    body = entries[name]
    check_keys(body, keys, f"[{kind}.{name}]")
    return dict(body)


def saved_names(config: Config, kind: str) -> dict[str, Mapping[str, Any]]:
    """The saved analyses of one kind, by name."""
    return dict(sorted(config.analyses.get(kind, {}).items()))
