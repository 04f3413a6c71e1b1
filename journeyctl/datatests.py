"""Data tests: the journey contract, checked on the built tables.

Each test is one query in `sql_templates/tests/<name>.sql` that returns the rows
breaking one rule of the contract; it is rendered for the target's dialect like any
other query template. A test passes when its query returns no row. Each runs as one
statement that counts the offending rows and fetches a few of them as examples.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from sqlglot import exp

from journeyctl.connectors.base import Connector
from journeyctl.errors import ConfigError, DataTestFailed, ExecutionError
from journeyctl.identity import DEFAULT_MAX_USERS_PER_VISITOR, counted_events, graph_components
from journeyctl.render import PipelineParams, compile_query, compile_with_tables, generate
from journeyctl.names import STAGING_MARK
from journeyctl.preflight import built_journey_length, preflight
from journeyctl.stages import RenderedTemplate, render_template, template_dir
from journeyctl.textout import table

EXAMPLES = 5
TESTS_DIR = "tests"
IDENTITY_TESTS_DIR = "identity/tests"
COUNT_COLUMN = "offending_rows"
Report = Callable[[str], None]


def data_test_names() -> list[str]:
    """The data tests, one per `sql_templates/tests/*.sql` (files starting with `_` hold macros)."""
    return sorted(p.stem for p in (template_dir() / TESTS_DIR).glob("*.sql")
                  if not p.name.startswith("_"))


@dataclass(frozen=True)
class DataTest:
    """One data test rendered for one dialect."""

    name: str
    description: str
    columns: list[str]
    """The offending rows' columns, as the template names them."""
    sql: str
    """Up to EXAMPLES offending rows, each with the total count in a last column."""


@dataclass
class DataTestResult:
    name: str
    description: str
    offending: int
    columns: list[str]
    examples: list[tuple] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.offending == 0

    def as_json(self) -> dict:
        return {"test": self.name, "passed": self.passed, "offending_rows": self.offending,
                "description": self.description, "seconds": round(self.seconds, 3),
                "examples": [dict(zip(self.columns, (_jsonable(v) for v in row)))
                             for row in self.examples]}


@dataclass
class DataTestRun:
    target: str
    dialect: str
    results: list[DataTestResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[DataTestResult]:
        return [r for r in self.results if not r.passed]

    @property
    def passed(self) -> bool:
        return not self.failed

    def as_json(self) -> dict:
        return {"target": self.target, "dialect": self.dialect, "passed": self.passed,
                "seconds": round(self.seconds, 3), "tests": [r.as_json() for r in self.results]}

    def error(self, result: Any = None) -> DataTestFailed:
        """The failure to raise; `result` (the run that built the tables, if any) travels with it."""
        names = ", ".join(r.name for r in self.failed)
        return DataTestFailed(
            f"{len(self.failed)} of {len(self.results)} data tests failed on {self.target} "
            f"({self.dialect}): {names}",
            hint="the examples above show offending rows; rebuild with `journeyctl run` and test "
                 "again with the same --idle-timeout and --journey-length",
            tests=self, result=result)


def render_data_test(name: str, params: PipelineParams, dialect, examples: int = EXAMPLES) -> DataTest:
    """`tests/<name>.sql` for `dialect`, wrapped to count its rows and keep `examples` of them."""
    if name not in data_test_names():
        raise ConfigError(f"no data test named {name!r}; data tests are: {', '.join(data_test_names())}")
    t = render_template(f"{TESTS_DIR}/{name}.sql", params.template_params())
    return wrap_data_test(t, compile_query(t, dialect, params.source_relation(), params.table_for), dialect,
                          examples)


def wrap_data_test(t: RenderedTemplate, query: exp.Expression, dialect, examples: int = EXAMPLES) -> DataTest:
    """A compiled test query wrapped to count its rows and keep `examples` of them.

    The wrapper is built on the AST: the template's own WITH moves up to the outer query
    (a CTE inside a subquery is not portable), its SELECT becomes the subquery.
    """
    columns = [c.lower() for c in query.named_selects]
    ctes = query.args.get("with_")
    query.set("with_", None)
    total = exp.Window(this=exp.Count(this=exp.Star()))
    wrapped = (exp.select(*(exp.column(c, table="offending") for c in columns),
                          exp.alias_(total, COUNT_COLUMN))
               .from_(query.subquery("offending"))
               .order_by(*(exp.column(c, table="offending") for c in columns))
               .limit(examples))
    if ctes is not None:
        wrapped.set("with_", ctes)
    sql = generate(wrapped, dialect, f"data test {t.name} ({t.path.name}), dialect {dialect.name}")
    return DataTest(name=t.name, description=t.description, columns=columns, sql=sql)


def render_data_tests(params: PipelineParams, dialect, names: Sequence[str] = ()) -> list[DataTest]:
    return [render_data_test(n, params, dialect) for n in (names or data_test_names())]


def run_data_tests(connector: Connector, params: PipelineParams, names: Sequence[str] = (),
                   report: Report = lambda _: None) -> DataTestRun:
    """Run the data tests (all, or `names`) on an open connector; never raises for a failed test.

    `params` must be those the tables were built with: the idle timeout decides where
    sessions end, the journey length which event_k columns dbt_tracks_flow has. The
    source is checked (and its columns adapted to) as a run does.
    """
    params = preflight(connector, params)
    tests = render_data_tests(params, connector.dialect, names)
    built = built_journey_length(connector, params)
    if built != params.journey_length:
        raise ConfigError(f"dbt_tracks_flow in {params.schema} was built with journey length {built}, "
                          f"not {params.journey_length}",
                          hint=f"test with --journey-length {built} (the parameters of the run that built it)")
    run = run_tests(connector, tests, report)
    if params.identity == "graph" and not names:
        graph = run_identity_data_tests(connector, params, params.placeholder_ids,
                                        params.max_users_per_visitor, report)
        run.results += graph.results
        run.seconds += graph.seconds
    return run


def run_tests(connector: Connector, tests: Sequence[DataTest], report: Report = lambda _: None) -> DataTestRun:
    """Run rendered data tests on an open connector; never raises for a failed test."""
    run = DataTestRun(target=connector.target.name, dialect=connector.dialect.name)
    started = time.perf_counter()
    for i, test in enumerate(tests, 1):
        t0 = time.perf_counter()
        try:
            rows = connector.query(test.sql)
        except ExecutionError:
            raise
        except Exception as e:  # the warehouse client's own error, whatever its class
            raise ExecutionError(
                f"data test {test.name} could not run on {connector.describe()} "
                f"(dialect {connector.dialect.name}): {connector.scrub(str(e).strip())}",
                hint="run again with --verbose to see its SQL", sql=test.sql) from e
        offending = int(rows[0][-1]) if rows else 0
        result = DataTestResult(test.name, test.description, offending, test.columns,
                                [tuple(row[:-1]) for row in rows], time.perf_counter() - t0)
        run.results.append(result)
        report(f"[{i}/{len(tests)}] {test.name}: "
               f"{'pass' if result.passed else f'FAIL ({offending:,} rows)'} in {result.seconds:.2f} s")
    run.seconds = time.perf_counter() - started
    return run


def identity_data_test_names() -> list[str]:
    """The graph mode's data tests, one per `sql_templates/identity/tests/*.sql`."""
    return sorted(p.stem for p in (template_dir() / IDENTITY_TESTS_DIR).glob("*.sql"))


def run_identity_data_tests(connector: Connector, params: PipelineParams,
                            placeholder_ids: Sequence[str] = (),
                            max_users_per_visitor: int = DEFAULT_MAX_USERS_PER_VISITOR,
                            report: Report = lambda _: None) -> DataTestRun:
    """The graph mode's data tests: dbt_aliases_mapping checked against the components of the
    source's counted events, computed afresh in working tables dropped afterwards.

    `placeholder_ids` and `max_users_per_visitor` must be those the tables were built with.
    """
    params = preflight(connector, params)
    built_journey_length(connector, params)  # the tables exist
    base = params.table_for(f"identity_tests{STAGING_MARK}{secrets.token_hex(4)}")
    with (counted_events(connector, params.source_relation(), params.has_received_at, base) as events,
          graph_components(connector, events, base, placeholder_ids=placeholder_ids,
                           max_users_per_visitor=max_users_per_visitor, report=report) as graph):
        tables = graph.tables | {"aliases": params.table_for("dbt_aliases_mapping")}
        templates = [render_template(f"{IDENTITY_TESTS_DIR}/{n}.sql", {}) for n in identity_data_test_names()]
        return run_tests(connector, [wrap_data_test(t, compile_with_tables(t, connector.dialect, tables),
                                                    connector.dialect) for t in templates], report)


def format_run(run: DataTestRun) -> str:
    """The checklist for people: one line per test, then examples of each failure."""
    rows = [("pass" if r.passed else "FAIL", r.name, r.offending, f"{r.seconds:.2f}") for r in run.results]
    lines = [f"data tests on {run.target} ({run.dialect})",
             table(["result", "test", "offending rows", "seconds"], rows, align="llrr")]
    for r in run.failed:
        shown = f", the first {len(r.examples)}" if r.offending > len(r.examples) else ""
        lines += [f"\nFAIL {r.name}: {r.description}",
                  f"  {r.offending:,} offending row{'s' if r.offending != 1 else ''}{shown}:",
                  table(r.columns, r.examples, indent="    ")]
    verdict = (f"all {len(run.results)} data tests passed" if run.passed
               else f"{len(run.failed)} of {len(run.results)} data tests failed")
    lines.append(f"\n{verdict} ({run.seconds:.2f} s)")
    return "\n".join(lines)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "is_integer"):  # Decimal
        return int(value) if value == int(value) else float(value)
    return str(value)
