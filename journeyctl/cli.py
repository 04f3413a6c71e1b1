"""The command line: a thin click layer over the library.

stdout carries only the product (SQL, JSON, a summary); progress and errors go to
stderr. A JourneyError becomes one message and its exit code, never a traceback.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

import click

from journeyctl import __version__, api
from journeyctl.config import Config, idle_timeout, journey_length, load_config
from journeyctl.connectors import connect
from journeyctl.connectors.base import Connector
from journeyctl.dialects import ALIASES, DIALECTS, get_dialect
from journeyctl.errors import ConfigError, DataTestFailed, ExecutionError, JourneyError, redact
from journeyctl.names import SchemaName, TableName
from journeyctl.plancache import cached_render_plan
from journeyctl.render import PipelineParams

if TYPE_CHECKING:
    from journeyctl.runner import RunResult

# What only some commands need (running, tests, reports, samples) is imported by them, so that
# `render`, the command other tools pipe from, starts fast (benchmarks/render_speed.py).

DIALECT_CHOICES = [*DIALECTS, *ALIASES]
DEMO_START = "Product Viewed"
"""The demo's paths start here (an event of journeyctl/sample.py's shop)."""
EXIT_CODES = """\b
Exit codes: 0 ok · 2 usage or config error · 3 connection failed ·
4 SQL failed on the target (published tables untouched) · 5 data test failed."""


DEMO_FUNNEL = ("Product Viewed", "Product Added", "Order Completed")
"""The funnel `journeyctl demo` ends with (journeyctl/sample.py's event names)."""


def log(message: str) -> None:
    click.echo(message, err=True)


class Redactor:
    """Replaces every known secret value in text before it is shown."""

    secrets: set[str] = set()

    @classmethod
    def add(cls, values) -> None:
        cls.secrets.update(v for v in values if v and len(v) >= 3)

    @classmethod
    def clean(cls, text: str) -> str:
        return redact(text, cls.secrets)


class JourneyGroup(click.Group):
    """Turns JourneyError into one readable message and its exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except JourneyError as e:
            obj = ctx.obj or {}
            if obj.get("debug"):
                raise
            lines = [f"error: {e}"]
            if e.hint:
                lines.append(f"  hint: {e.hint}")
            if isinstance(e, ExecutionError) and e.sql and obj.get("verbose"):
                lines.append("  failing SQL:")
                for n, text in enumerate(e.sql.splitlines(), 1):
                    marker = ">>" if n == e.line else "  "
                    lines.append(f"  {marker}{n:4} | {text}")
            log(Redactor.clean("\n".join(lines)))
            ctx.exit(e.exit_code)


def pipeline_overrides(f):
    """The pipeline parameters a run is built with; `test` takes them too, to check against."""
    options = [
        click.option("--source", help="Source tracks table, 1-3 dotted parts (default: tracks; TRACKS on Snowflake)."),
        click.option("--schema", help="Output schema (BigQuery: dataset) for the journey tables (default: journey)."),
        click.option("--idle-timeout", type=float, help="Minutes of inactivity that end a session (default 30)."),
        click.option("--journey-length", type=int, help="Events per row of dbt_tracks_flow, N >= 2 (default 5)."),
        click.option("--identity", type=click.Choice(["latest_user", "graph"]),
                     help="How ids become visitors: latest_user (an anonymous id goes to its latest "
                          "user; default) or graph (one visitor per connected component of ids)."),
        click.option("--timestamp-column",
                     help="Source column of the event time, e.g. original_timestamp (default: timestamp)."),
        click.option("--layout", type=click.Choice(["views", "tables"]),
                     help="views: one physical event table, dbt_journey_events, and the three "
                          "event-level tables views of it (default); tables: each a table."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def pipeline_options(f):
    """The pipeline overrides shared by render and run, and --select."""
    f = click.option("--select", "select", multiple=True,
                     help="Stages to build: NAME, +NAME (with upstream), NAME+ (with downstream). Repeatable.")(f)
    return pipeline_overrides(f)


def flag_params(opts: dict) -> dict:
    """The pipeline flags given (validated, errors naming the flag), as api keyword arguments."""
    timeout, length = opts.get("idle_timeout"), opts.get("journey_length")
    return {
        "source": opts.get("source"), "schema": opts.get("schema"),
        "idle_timeout_minutes": idle_timeout(timeout, "--idle-timeout") if timeout is not None else None,
        "journey_length": journey_length(length, "--journey-length") if length is not None else None,
        "timestamp_column": opts.get("timestamp_column"), "identity": opts.get("identity"),
        "layout": opts.get("layout"),
    }


def pipeline_params(config: Config, connector: Connector, opts: dict) -> PipelineParams:
    """The parameters a command on `connector`'s target uses."""
    return api.pipeline_params(config, connector.dialect, target_schema=connector.output_schema(),
                               target_layout=connector.output_layout(), **flag_params(opts))


def open_target(ctx: click.Context, name: str | None) -> Connector:
    """A validated connector for the named (or default) target; its secrets registered for redaction."""
    config: Config = ctx.obj["config"]
    connector = connect(config.target(name))
    Redactor.add(connector.secrets)
    return connector


@click.group(cls=JourneyGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog=EXIT_CODES)
@click.version_option(__version__, prog_name="journeyctl")
@click.option("--config", "config_path", metavar="FILE", envvar="JOURNEYCTL_CONFIG",
              help="journeyctl.toml to use (default: $JOURNEYCTL_CONFIG, then ./journeyctl.toml).")
@click.option("-v", "--verbose", is_flag=True, help="Show the failing SQL with a line pointer.")
@click.option("--debug", is_flag=True, help="Show tracebacks (for reporting bugs).")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: bool, debug: bool) -> None:
    """Build customer journeys from RudderStack tracks, on any warehouse.

    Five tables (dbt_aliases_mapping, dbt_mapped_tracks, dbt_session_tracks,
    dbt_track_facts, dbt_tracks_flow), written once as SQL templates and rendered
    for DuckDB, BigQuery, Snowflake, Redshift, PostgreSQL, Spark/Databricks and
    ClickHouse with the same results.

    \b
    Try it locally, no warehouse needed:
      journeyctl demo
    Print the pipeline for your warehouse:
      journeyctl render --dialect snowflake > journeys.sql
    Run it on a target from journeyctl.toml:
      journeyctl run --target bq
    """
    ctx.ensure_object(dict)
    ctx.obj.update(verbose=verbose, debug=debug)
    try:
        ctx.obj["config"] = load_config(config_path)
    except JourneyError:
        ctx.obj["config"] = None
        raise


@cli.command()
@click.option("--dialect", "-d", type=click.Choice(DIALECT_CHOICES, case_sensitive=False),
              help="SQL dialect (default: the default target's).")
@pipeline_options
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write one numbered .sql file per stage here instead of printing; with dbt, the project.")
@click.option("--format", "fmt", type=click.Choice(["sql", "json", "dbt"]), default="sql", show_default=True,
              help="json: a list of {stage, inputs, table, description, sql}. dbt: a dbt project "
                   "(and package) in --output-dir: one model per stage, the data tests as tests.")
@click.pass_context
def render(ctx, dialect, output_dir, fmt, **opts):
    """Print the pipeline as SQL for one warehouse, or write it as a dbt project.

    The script is self-contained: it creates the output schema, then builds every
    stage in dependency order. Pipe it into the warehouse's own client. The dbt
    project runs with `dbt build` as it is, or installs as a package; it needs no
    journeyctl at run time.

    \b
    Examples:
      journeyctl render --dialect snowflake | snowsql -f /dev/stdin
      journeyctl render -d bq --source rudder.tracks --schema journeys
      journeyctl render -d redshift --select +dbt_track_facts --format json
      journeyctl render -d duckdb --output-dir build/
      journeyctl render -d snowflake --format dbt --output-dir journeys_dbt/
    """
    params = dict(config=ctx.obj["config"], **flag_params(opts))
    if fmt == "dbt":
        if not output_dir or opts["select"]:
            raise ConfigError("--format dbt writes a whole dbt project: give --output-dir DIR, not --select",
                              hint="select models with dbt's own --select once it is written")
        written = api.export_dbt(output_dir, dialect, **params)
        log(f"wrote a dbt project of {len(written)} files to {output_dir}")
        return
    script = api.render(dialect, select=opts["select"], **params)
    if output_dir:
        log(f"wrote {len(script.write_files(output_dir))} files to {output_dir}")
    elif fmt == "json":
        click.echo(json.dumps(script.as_json(), indent=2))
    else:
        click.echo(script.sql, nl=False)


def print_run_summary(result: RunResult) -> None:
    width = max(len(s.stage) for s in result.stages)
    log(f"\n{'stage':<{width}}  {'rows':>12}  {'seconds':>8}")
    for s in result.stages:
        log(f"{s.stage:<{width}}  {s.rows:>12,}  {s.seconds:>8.2f}")
    if result.source_rows is not None:
        log(f"source: {result.source_rows:,} rows; left out {result.unusable_rows:,} without id, "
            f"timestamp or visitor, and {result.duplicate_rows:,} duplicate deliveries")
    if result.identity:
        g = result.identity
        log(f"identity graph: {g['components']:,} components (largest {g['largest_component']:,} ids) "
            f"in {g['rounds']} rounds; {g['fallback_components']:,} oversized components "
            f"({g['fallback_ids']:,} ids) kept the default rule; {g['placeholder_ids']:,} placeholder "
            "ids joined nothing")
    inc = result.incremental
    if inc is not None and inc.mode == "incremental":
        log(f"incremental: {inc.rows_read:,} source rows read, {inc.events_changed:,} events new or "
            f"changed, {inc.visitors_affected:,} visitors affected; high-water mark {inc.high_water_mark}")
        for table, n in inc.rows_replaced.items():
            log(f"  {table}: {n['removed']:,} rows replaced by {n['written']:,}")
        if inc.unseen_rows:
            log(f"note: {inc.unseen_rows:,} source rows have no received_at; incremental runs cannot "
                "see them, `journeyctl run --full-refresh` takes them in")
        if not inc.state_advanced:
            log("note: --select left tables out, so the incremental state did not move; "
                "the next run without --select brings every table up to date")
    elif inc is not None:
        log(f"incremental: full build ({inc.reason}); high-water mark {inc.high_water_mark}")
    log(f"done: {len(result.stages)} stages on {result.target} ({result.dialect}) "
        f"in {result.seconds:.2f} s")


def show_run(result: RunResult, fmt: str) -> None:
    """The run's summary on stderr; on stdout its JSON, or the data tests' checklist."""
    from journeyctl.datatests import format_run
    print_run_summary(result)
    if fmt == "json":
        click.echo(json.dumps(result.as_json(), indent=2))
    elif result.data_tests:
        click.echo(format_run(result.data_tests))


@cli.command()
@click.option("--target", "-t", help="Target from journeyctl.toml (default: default_target).")
@pipeline_options
@click.option("--incremental", is_flag=True, default=None,
              help="Recompute only the visitors that rows loaded since the last run touch "
                   "(default: [pipeline] incremental). The first run builds everything.")
@click.option("--full-refresh", is_flag=True,
              help="Rebuild everything from the whole source (and, when incremental, record new state).")
@click.option("--concurrency", type=click.IntRange(1, 64),
              help="Stages run at once, each on its own connection (default: the target's "
                   "`concurrency`, else 2 on DuckDB, 4 on warehouses, 1 on ClickHouse and Spark).")
@click.option("--dry-run", is_flag=True, help="Print every statement the run would execute, and stop.")
@click.option("--test", "test_after", is_flag=True,
              help="Run the data tests (as `journeyctl test`) on the published tables right after; exit 5 if one fails.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: print a run summary (stages, rows, seconds) on stdout.")
@click.pass_context
def run(ctx, target, incremental, full_refresh, concurrency, dry_run, test_after, fmt, **opts):
    """Build the journey tables on a target.

    Stages are built into staging tables named for this run; only when all have
    succeeded do they replace the published tables, so a failed run leaves the
    previous tables exactly as they were. An incremental run recomputes only the
    visitors that newly loaded rows touch and replaces their rows in one transaction;
    the result equals a full rebuild.

    \b
    Examples:
      journeyctl run                          # default target (./journey.duckdb)
      journeyctl run --target bq --idle-timeout 45
      journeyctl run --incremental            # only what rows loaded since the last run touch
      journeyctl run --incremental --full-refresh   # rebuild, and record incremental state
      journeyctl run --select dbt_tracks_flow+ --dry-run
      journeyctl run --target sf --concurrency 8   # independent stages side by side
      journeyctl run --test                   # then check the tables (exit 5 on a failure)
      journeyctl run --format json | jq .stages
    """
    connector = open_target(ctx, target)
    params = dict(config=ctx.obj["config"], select=opts["select"], test=test_after,
                  incremental=incremental, full_refresh=full_refresh, **flag_params(opts))
    if dry_run:
        for statement in api.run_statements(connector, **params):
            click.echo(f"-- {statement.stage}\n{statement.sql};\n")
        return
    try:
        result = api.run(connector, report=log, concurrency=concurrency, **params)
    except DataTestFailed as e:  # the tables were built: show them and the tests, then fail
        show_run(e.result, fmt)
        raise
    show_run(result, fmt)


@cli.command("test")
@click.argument("names", nargs=-1, metavar="[TEST]...")
@click.option("--target", "-t", help="Target from journeyctl.toml (default: default_target).")
@pipeline_overrides
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: every test with its offending row count and examples, on stdout.")
@click.option("--list", "list_only", is_flag=True, help="List the data tests and what each checks, and stop.")
@click.pass_context
def datatest(ctx, names, target, fmt, list_only, **opts):
    """Check the built tables against the journey contract (data tests).

    Each test is a query in sql_templates/tests/ returning the rows that break one
    rule (every event once in dbt_track_facts, sessions cut exactly at the idle
    timeout, sequence numbers without holes, dbt_tracks_flow agreeing with the facts,
    unique aliases, keys not NULL…). Prints one line per test with its offending rows,
    and a few example rows for each failure; exits 5 if any test fails. Give the same
    --idle-timeout and --journey-length as the run (or keep them in journeyctl.toml).

    \b
    Examples:
      journeyctl test
      journeyctl test --target bq session_gaps track_sequence_numbers
      journeyctl test --format json | jq '.tests[] | select(.passed | not)'
    """
    from journeyctl.datatests import format_run, render_data_tests, run_data_tests
    config: Config = ctx.obj["config"]
    if list_only:
        params = api.pipeline_params(config, get_dialect("duckdb"), **flag_params(opts))
        for test in render_data_tests(params, get_dialect("duckdb"), names):
            click.echo(f"{test.name}\n    {test.description}")
        return
    connector = open_target(ctx, target)
    log(f"connecting to {connector.describe()} …")
    params = pipeline_params(config, connector, opts)
    with connector:
        tests = run_data_tests(connector, params, names, report=log)
    click.echo(json.dumps(tests.as_json(), indent=2) if fmt == "json" else format_run(tests))
    if not tests.passed:
        raise tests.error()


@cli.command()
@click.option("--target", "-t", help="Target from journeyctl.toml (default: default_target).")
@click.option("--schema", help="Schema (BigQuery: dataset) of the journey tables (default: as `run` would use).")
@click.option("--top", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="How many journeys, transitions, entry and exit events to list.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write one self-contained HTML page: a Sankey diagram of the journeys and charts.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: the report's numbers on stdout.")
@click.pass_context
def report(ctx, target, schema, top, out, fmt):
    """Report on the built journey tables: journeys, transitions, distributions.

    Top journeys (the first events of sessions), transitions between consecutive
    events, sessions per visitor, session length and duration, entry and exit
    events. Tables on stdout; with --out, an HTML page that opens offline.

    \b
    Examples:
      journeyctl report
      journeyctl report --target sf --top 20 --out report.html
    """
    from journeyctl.report import collect, format_text, write_html
    config: Config = ctx.obj["config"]
    connector = open_target(ctx, target)
    params = pipeline_params(config, connector, {"schema": schema})
    with connector:
        data = collect(connector, params, top)
    click.echo(json.dumps(data.as_json(), indent=2, default=str) if fmt == "json" else format_text(data))
    if out:
        log(f"wrote {write_html(data, out)} ({out.stat().st_size / 1e6:.1f} MB, opens offline)")


@cli.command()
@click.argument("steps", nargs=-1, metavar="STEP STEP [STEP]... | NAME")
@click.option("--per", metavar="visitor|session", help="What is counted: visitor (default) or session.")
@click.option("--order", metavar="ordered|strict|any", help="ordered (default: other events may come between steps), strict (each "
                             "step the very next event) or any (steps in any order).")
@click.option("--window", metavar="DURATION", help="How long after the entry event a step may come: 90s, 30m, 2h, 14d, 1w "
                              "(default 14d per visitor; per session, the session).")
@click.option("--exclude", multiple=True, metavar="NAME[@A-B]",
              help="Drop attempts with this event between steps A and B (default: first and last); "
                   "ordered only. Repeatable.")
@click.option("--since", metavar="DATE", help="Entries from this ISO date or timestamp on (UTC, inclusive).")
@click.option("--until", metavar="DATE", help="Entries before this ISO date or timestamp (UTC, exclusive).")
@click.option("--interval", metavar="day|week|month", help="Also the trend by day, week (from Monday) or month of entry (UTC).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: the funnel's numbers on stdout.")
@click.option("--dialect", "-d", metavar="DIALECT",
              help="Print the funnel's one SQL query for this dialect and stop (no connection): the "
                   "step rows, or with --interval the trend rows.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write one self-contained HTML page: the steps, time to convert and trend.")
@click.option("--target", "-t", help="Target from journeyctl.toml (default: default_target).")
@click.option("--schema", help="Schema (BigQuery: dataset) of the journey tables (default: as `run` would use).")
@click.option("--list", "list_only", is_flag=True, help="List the saved funnels ([funnels.NAME]) and stop.")
@click.pass_context
def funnel(ctx, steps, fmt, dialect, out, target, list_only, **options):
    """Conversion funnel over the built journey tables: how many visitors get from
    step to step, how long it takes, and where they drop off.

    A step is an event name, or several joined by "|" (any of them completes it);
    2 to 20 steps, or the NAME of a saved [funnels.NAME] in journeyctl.toml (options
    given here override its keys). Each unit counts once, with its attempt that got
    furthest (the earliest of those). One query on the target: the events stay there.

    \b
    Examples:
      journeyctl funnel "Product Viewed" "Product Added" "Order Completed"
      journeyctl funnel "Page Viewed|Product Viewed" "Order Completed" --window 2h
      journeyctl funnel "Cart Viewed" "Checkout Started" "Order Completed" \\
          --exclude "Product Removed@1-2" --interval week
      journeyctl funnel "Product Viewed" "Product Added" --per session --order strict
      journeyctl funnel checkout --since 2024-03-01 --until 2024-04-01 --format json
      journeyctl funnel checkout --dialect snowflake > checkout.sql
      journeyctl funnel --list
    """
    from journeyctl.analysis.common import saved_names
    from journeyctl.analysis.funnel import format_text
    config: Config = ctx.obj["config"]
    if list_only:
        for name, body in saved_names(config, "funnels").items():
            click.echo(f"{name}\n    {' → '.join(map(str, body.get('steps', [])))}")
        return
    if len(steps) == 1 and steps[0] not in saved_names(config, "funnels"):
        known = ", ".join(saved_names(config, "funnels")) or "none"
        raise ConfigError(f"{steps[0]!r} is not a saved funnel (saved: {known}), and a funnel has 2 to 20 steps")
    saved = {"name": steps[0]} if len(steps) == 1 else {"steps": list(steps)}
    schema = options.pop("schema")
    spec = api.funnel_spec(config=config, **saved, **{**options, "exclude": tuple(options["exclude"])})
    if dialect:
        click.echo(api.render_funnel(spec, dialect=dialect, config=config, schema=schema))
        return
    result = api.funnel(spec, target=open_target(ctx, target), config=config, schema=schema, report=log)
    click.echo(json.dumps(result, indent=2) if fmt == "json" else format_text(spec, result))
    if out:
        from journeyctl.analysis.funnel_page import write_funnel_html
        log(f"wrote {write_funnel_html(spec, result, out)} (opens offline)")


@cli.command()
@click.option("--target", "-t", help="Target from journeyctl.toml (default: default_target).")
@click.option("--source", help="Source tracks table to check (default: as `run` would use).")
@click.option("--schema", help="Output schema (BigQuery: dataset) to check (default: as `run` would use).")
@click.pass_context
def debug(ctx, target, **opts):
    """Check that a target is ready for `run`, as `dbt debug` does.

    Prints a checklist: the config and dialect, the connection, the source table
    (required columns and a timestamp type) and the output schema (created if
    missing, as a run would; a throw-away table is created and dropped in it).
    Exits non-zero if any check fails, with the exit code a run would have had.

    \b
    Example:
      journeyctl debug --target sf
    """
    from journeyctl.doctor import diagnose
    config: Config = ctx.obj["config"]
    diagnosis = diagnose(config, target, lambda connector: pipeline_params(config, connector, opts))
    click.echo(f"journeyctl debug: target {diagnosis.target!r}")
    for line in diagnosis.lines():
        click.echo(Redactor.clean(line))
    ctx.exit(diagnosis.exit_code)


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def stages(fmt):
    """List the stages, what each reads and what it holds.

    \b
    Example:
      journeyctl stages --format json
    """
    steps = cached_render_plan(PipelineParams(TableName.parse("tracks"), SchemaName.parse("journey")),
                               get_dialect("duckdb")).steps
    rows = [{"stage": s.stage, "inputs": s.inputs, "published": s.published,
             "table": s.published_table.name if s.published else None,
             "view": s.view_query is not None,
             "takes_over": s.takes_over, "description": s.description} for s in steps]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    width = max(len(r["stage"]) for r in rows)
    for r in rows:
        kind = "" if r["published"] else " (working table, not published)"
        if r["table"] and r["table"] != r["stage"]:
            kind = f" (published as {r['table']})"
        if r["view"]:
            kind = " (a view of its columns)"
        if r["takes_over"]:
            kind = f" (made from {r['takes_over']} by dropping its other columns, not copied)"
        click.echo(f"{r['stage']:<{width}}  ← {', '.join(r['inputs'])}{kind}\n"
                   f"{'':<{width}}    {r['description']}")


@cli.command()
@click.argument("name", required=False)
@click.option("--start", help="Paths from each unit's first START (an event name or a --group name).")
@click.option("--end", help="Paths up to each unit's first END (with --start: the first END after it).")
@click.option("--steps", type=int, help="Items per path, 2-20 (default 5; at least 3 with both anchors).")
@click.option("--per", help="What a path is of: session (default) or visitor.")
@click.option("--exclude", multiple=True, help="Leave out events matching PATTERN (`*` any run). Repeatable.")
@click.option("--group", multiple=True, metavar="'PATTERN=NAME'",
              help="Events matching PATTERN become the item NAME; the first matching rule wins. Repeatable.")
@click.option("--keep-repeats", is_flag=True, default=None,
              help="Keep an item equal to the previous one (by default repeats collapse).")
@click.option("--top", type=int, help="How many paths (default 20).")
@click.option("--min-weight", type=int, help="Edges of fewer units are left out (default 1).")
@click.option("--edge-limit", type=int, help="How many edges (default 50).")
@click.option("--since", help="Events from this ISO date or timestamp (UTC, inclusive).")
@click.option("--until", help="Events before this ISO date or timestamp (UTC, exclusive).")
@click.option("--target", "-t", help="Target from journeyctl.toml (default: default_target).")
@click.option("--schema", help="Schema (BigQuery: dataset) of the journey tables (default: as `run` would use).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: {units, paths, edges} on stdout.")
@click.option("--dialect", "-d", type=click.Choice(DIALECT_CHOICES, case_sensitive=False),
              help="Print the paths query for this dialect (with --edges, the edges query), and stop.")
@click.option("--edges", is_flag=True, help="With --dialect: the edges query instead of the paths query.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write an HTML page: a Sankey of the edges beside the top paths.")
@click.option("--list", "list_only", is_flag=True, help="List the saved paths ([paths.NAME]) and stop.")
@click.pass_context
def paths(ctx, name, target, schema, fmt, dialect, edges, out, list_only, **options):
    """What units did after, before or between events: the top paths and their edges.

    Each session's (or visitor's) events are cleaned (--since/--until, --exclude,
    --group, repeats collapsed), then cut at the anchors: the first --steps items
    with no anchor, from the first --start, up to the first --end, or from --start
    through the first --end after it (a longer path keeps its first steps − 2 items,
    then …, then the end). NAME runs a saved [paths.NAME]; options override it.

    \b
    Examples:
      journeyctl paths --start "Product Viewed"
      journeyctl paths --end "Order Completed" --steps 4 --group 'Product *=Product'
      journeyctl paths --start "Cart Viewed" --end "Order Completed" --per visitor --format json
      journeyctl paths checkout --dialect snowflake --edges
    """
    from journeyctl.analysis.common import saved_names
    config: Config = ctx.obj["config"]
    if list_only:
        for saved, body in saved_names(config, "paths").items():
            click.echo(f"{saved}\n    " + ", ".join(f"{k} = {v!r}" for k, v in body.items()))
        return
    options = {k: (list(v) or None) if k in ("exclude", "group") else v for k, v in options.items()}
    if dialect:
        click.echo(api.render_paths(name, dialect=dialect, config=config, schema=schema, edges=edges, **options))
        return
    spec = api.path_spec(name, config, **options)
    connector = open_target(ctx, target)
    result = api.paths(name, target=connector, config=config, schema=schema, report=log, **options)
    if fmt == "json":
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        from journeyctl.analysis.paths import format_text
        click.echo(format_text(result, spec.per))
    if out:
        from journeyctl.analysis.paths import describe
        from journeyctl.analysis.paths_page import write_html
        log(f"wrote {write_html(result, out, spec.per, f'{connector.describe()}: {describe(spec)}')}")


@cli.command()
@click.option("--target", "-t", help="Target from journeyctl.toml (default: default_target).")
@click.option("--source", help="Table to (re)create with the events (default: the pipeline source).")
@click.option("--events", "n", type=click.IntRange(1, 50_000_000), default=200_000, show_default=True,
              help="About how many events to generate.")
@click.option("--seed", type=int, default=42, show_default=True, help="Same seed, same events.")
@click.pass_context
def sample(ctx, target, source, n, seed):
    """Load synthetic RudderStack tracks into a target's source table.

    Anonymous and identified visitors on several devices, shared devices, duplicate
    deliveries, bursts with equal timestamps and gaps right at the idle timeout.
    The table is replaced.

    \b
    Example:
      journeyctl sample --events 1000000 --seed 7
    """
    from journeyctl.sample import load_sample
    connector = open_target(ctx, target)
    config: Config = ctx.obj["config"]
    table = TableName.parse(source or config.pipeline.get("source") or connector.dialect.default_source,
                            "source")
    log(f"generating ~{n:,} events into {table} on {connector.describe()} …")
    t0 = time.perf_counter()
    with connector:
        rows = load_sample(connector, table, n, seed)
    log(f"loaded {rows:,} rows in {time.perf_counter() - t0:.1f} s")


@cli.command()
@click.option("--events", "n", type=click.IntRange(1000, 50_000_000), default=200_000, show_default=True,
              help="About how many synthetic events to generate.")
@click.option("--database", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("journey.duckdb"), show_default=True, help="DuckDB file to build in.")
@click.pass_context
def demo(ctx, n, database):
    """Try journeyctl end to end on your machine, no warehouse or config needed.

    Loads synthetic events into a local DuckDB file, builds the five journey tables,
    prints a summary with the most common journeys, the top paths after Product
    Viewed and a funnel (Product Viewed → Product Added → Order Completed), and
    writes journey-report.html (a Sankey diagram of the journeys and charts) in
    the current folder.

    \b
    Example:
      journeyctl demo && duckdb journey.duckdb "from journey.dbt_tracks_flow limit 5"
    """
    from journeyctl.analysis.paths import format_text, path_spec, run_paths
    from journeyctl.config import Target
    from journeyctl.report import collect, print_summary, write_html
    from journeyctl.runner import execute_run, plan_run
    from journeyctl.sample import load_sample

    # compress_strings: a file less than half the size, for a run of seconds
    options = {"path": str(database), "compress_strings": True}
    connector = connect(Target("demo", "duckdb", options, Path.cwd()))
    params = PipelineParams(source=TableName.parse("tracks"), schema=SchemaName.parse("journey"))
    t0 = time.perf_counter()
    with connector:
        log(f"loading ~{n:,} synthetic events into {database} …")
        load_sample(connector, params.source, n)
        result = execute_run(connector, plan_run(connector, params), log)
        print_run_summary(result)
        print_summary(connector, params)
        click.echo(f"\ntop paths after {DEMO_START} (`journeyctl paths --start '{DEMO_START}'`):")
        after = run_paths(connector, params.schema, path_spec({"start": DEMO_START, "top": 5, "edge_limit": 5}))
        click.echo(format_text(after.as_json(), "session"))
        page = write_html(collect(connector, params, where=f"demo: ~{n:,} synthetic events in {database}"),
                          Path("journey-report.html"))
    from journeyctl.analysis.funnel import format_text
    spec = api.funnel_spec(DEMO_FUNNEL)
    click.echo(f"\n{format_text(spec, api.funnel(spec, target=connector, config=ctx.obj['config'], schema='journey'))}")
    log(f"demo finished in {time.perf_counter() - t0:.1f} s; tables are in {database}, schema {params.schema}")
    log(f"report: {page.resolve()} (open it in a browser; `journeyctl report` prints it as text)")
    steps = " ".join(f'"{step}"' for step in DEMO_FUNNEL)
    log(f"funnel: `journeyctl funnel {steps} --out funnel.html` draws it")


def main() -> None:
    try:
        cli(obj={})
    except KeyboardInterrupt:
        log("interrupted; the published tables are unchanged")
        sys.exit(130)
    except Exception:
        # --debug (or a bug): the traceback as Python prints it, secrets masked; its chained
        # causes carry the warehouse's raw error, which may quote one.
        log(Redactor.clean(traceback.format_exc()).rstrip("\n"))
        sys.exit(1)


if __name__ == "__main__":
    main()
