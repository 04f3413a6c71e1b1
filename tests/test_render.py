"""Rendering: golden SQL per dialect and stage, an independent parser, and loud refusals.

Golden files live in tests/golden/<dialect>/<stage>.sql so that every change to the
generated SQL shows in review. Regenerate with: JOURNEYCTL_UPDATE_GOLDEN=1 pytest tests/test_render.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlfluff

from journeyctl.dialects import DIALECTS, get_dialect
from sqlglot import exp

from journeyctl.errors import ConfigError, RenderError
from journeyctl.layout import LAYOUTS
from journeyctl.render import render_plan
from journeyctl.stages import render_template
from tests.helpers import params

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("JOURNEYCTL_UPDATE_GOLDEN") == "1"
SQLFLUFF_DIALECT = {"duckdb": "duckdb", "bigquery": "bigquery", "snowflake": "snowflake",
                    "redshift": "redshift", "postgres": "postgres", "clickhouse": "clickhouse",
                    "spark": "sparksql"}


def golden_cases():
    """Every stage in the default layout (views); the stages the tables layout renders otherwise
    under tables/."""
    for dialect in DIALECTS:
        p = params(source="rudder.tracks", incremental=True)
        full = render_plan(p, get_dialect(dialect))
        incremental = render_plan(p, get_dialect(dialect), folder="incremental",
                                  outside=[s.stage for s in full.steps],
                                  run_vars={"state_has_mark": True})  # a run's usual case
        tables = render_plan(params(source="rudder.tracks", layout="tables"), get_dialect(dialect),
                             ("journey_events+",))
        for folder, step in [*(("", s) for s in [*full.steps, *incremental.steps]),
                             *(("tables/", s) for s in tables.steps if s.stage != "dbt_session_tracks")]:
            if step.stage == "journeyctl_state":
                continue  # holds a digest of every template: it changes with any of them
            yield pytest.param(dialect, folder + step.stage, ";\n".join(step.statements) + ";\n",
                               id=f"{dialect}-{folder}{step.stage}")


@pytest.mark.parametrize("dialect,stage,sql", list(golden_cases()))
def test_golden_sql(dialect, stage, sql):
    path = GOLDEN / dialect / f"{stage}.sql"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql)
    assert path.exists(), f"no golden file {path}; run with JOURNEYCTL_UPDATE_GOLDEN=1"
    assert sql == path.read_text()


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_script_parses_with_sqlfluff(dialect, layout):
    script = render_plan(params(source="rudder.tracks", layout=layout), get_dialect(dialect)).script()
    parsed = sqlfluff.parse(script, dialect=SQLFLUFF_DIALECT[dialect])
    text = str(parsed)
    assert "unparsable" not in text


def test_script_is_self_contained_and_ordered():
    script = render_plan(params(layout="tables"), get_dialect("snowflake")).script()
    stages = [line.split(": ")[1] for line in script.splitlines() if line.startswith("-- stage: ")]
    assert stages == ["chosen_copies", "dbt_aliases_mapping", "journey_events", "dbt_mapped_tracks",
                      "dbt_session_tracks", "dbt_track_facts", "dbt_tracks_flow"]
    assert script.index('CREATE SCHEMA IF NOT EXISTS "JOURNEY"') < script.index("-- stage:")
    cleanup = script.split("-- cleanup")[1]
    assert 'DROP TABLE IF EXISTS "JOURNEY"."CHOSEN_COPIES"' in cleanup
    assert "JOURNEY_EVENTS" not in cleanup  # dbt_tracks_flow took it over


def test_snowflake_identifiers_are_upper_case_and_quoted():
    script = render_plan(params(source="TRACKS"), get_dialect("sf")).script()
    assert 'FROM "TRACKS"' in script and '"TIMESTAMP"' in script and '"timestamp"' not in script


@pytest.mark.parametrize("dialect,gap", [
    ("bigquery", ",MICROSECOND)"), ("snowflake", "TIMESTAMPDIFF(MICROSECOND,"),
    ("redshift", "DATEDIFF(MICROSECOND,"), ("duckdb", "DATE_DIFF('MICROSECOND',"),
    ("postgres", 'CAST(EXTRACT(EPOCHFROM("timestamp"-LAG("timestamp")'),  # no CAST(… AS TIMESTAMP)
    ("clickhouse", "DATE_DIFF(MICROSECOND,"),
    ("spark", "CAST(UNIX_MICROS(`timestamp`)-UNIX_MICROS(LAG(`timestamp`)"),  # TIMESTAMPDIFF is wall-clock
])
def test_exact_microsecond_gap_per_dialect(dialect, gap):
    steps = render_plan(params(), get_dialect(dialect), ("journey_events",)).steps
    sql = "".join(next(s for s in steps if s.stage == "journey_events").statements)
    assert gap in "".join(sql.split())


@pytest.mark.parametrize("dialect", ["rs", "pg"])
def test_no_create_or_replace_where_it_is_invalid(dialect):
    for sql in (s for step in render_plan(params(), get_dialect(dialect)).steps for s in step.statements):
        assert "CREATE OR REPLACE" not in sql
    first = render_plan(params(), get_dialect(dialect)).steps[0].statements
    assert first[0].startswith("DROP TABLE IF EXISTS") and first[1].startswith("CREATE TABLE")


def test_spark_builds_every_table_with_drop_and_create():
    """Plain Spark tables have no CREATE OR REPLACE … AS and no DROP COLUMN: no takeover there."""
    plan = render_plan(params(layout="tables"), get_dialect("databricks"))
    sql = [s for step in plan.steps for s in step.statements]
    assert not [s for s in sql if "CREATE OR REPLACE" in s or "DROP COLUMN" in s]
    flow = plan.steps[-1]
    assert flow.takes_over is None and flow.statements[1].startswith("CREATE TABLE `journey`.`dbt_tracks_flow` AS")
    assert "DROP TABLE IF EXISTS `journey`.`journey_events`" in plan.cleanup


def test_spark_refuses_an_inexact_diff():
    from sqlglot import exp
    with pytest.raises(RenderError, match="only MICROSECOND"):
        get_dialect("dbx").rewrite(exp.TimestampDiff(this=exp.column("b"), expression=exp.column("a"),
                                                     unit=exp.var("MINUTE")))


def test_unknown_dialect_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="valid dialects: duckdb, bigquery, snowflake, redshift"):
        get_dialect("oracle")


def test_journey_length_changes_flow_columns():
    plan = render_plan(params(journey_length=3), get_dialect("duckdb"), ("dbt_tracks_flow",))
    events = next(s for s in plan.steps if s.stage == "journey_events").statements[0]
    assert '"event_3"' in events and '"event_4"' not in events
    assert plan.steps[-1].stage == "dbt_tracks_flow"


@pytest.mark.parametrize("dialect,renamed", [
    ("duckdb", 'RENAME TO "dbt_tracks_flow"'), ("bigquery", "RENAME TO `dbt_tracks_flow`"),
    ("redshift", 'RENAME TO "dbt_tracks_flow"'), ("postgres", 'RENAME TO "dbt_tracks_flow"'),
    ("snowflake", 'RENAME TO "JOURNEY"."DBT_TRACKS_FLOW"'),  # unqualified would move schemas
])
def test_flow_takes_over_journey_events_instead_of_copying_it(dialect, renamed):
    plan = render_plan(params(layout="tables"), get_dialect(dialect))
    order = [s.stage for s in plan.steps]
    flow = plan.steps[-1]
    assert flow.stage == "dbt_tracks_flow"  # after every other reader of journey_events
    assert {"dbt_mapped_tracks", "dbt_session_tracks", "dbt_track_facts"} < set(order[:-1])
    sql = " ".join(" ".join(s.split()) for s in flow.statements).lower()
    dropped = [c for c in ("anonymous_id", "session_sequence_number", "idle_time_minutes")
               if f"drop column {dialect_quote(dialect, c)}" in sql]
    assert len(dropped) == 3 and "create" not in sql and "select" not in sql
    assert renamed.lower() in sql
    assert "journey_events" not in " ".join(plan.cleanup).lower()


def dialect_quote(dialect: str, name: str) -> str:
    return f"`{name}`" if dialect == "bigquery" else f'"{name}"'


def test_without_flow_the_working_table_is_dropped_after_the_run():
    plan = render_plan(params(layout="tables"), get_dialect("duckdb"), ("dbt_mapped_tracks",))
    assert '"journey"."journey_events"' in " ".join(plan.cleanup)


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_views_layout_writes_events_once_and_selects_columns_from_them(dialect):
    """views: journey_events is published (dbt_journey_events), no takeover, nothing copied; the
    three event tables are views that only select its columns."""
    plan = render_plan(params(), get_dialect(dialect))
    steps = {s.stage: s for s in plan.steps}
    assert steps["journey_events"].published and steps["journey_events"].published_table.name == "dbt_journey_events"
    assert not any(s.takes_over for s in plan.steps) and "journey_events" not in " ".join(plan.cleanup)
    for view in ("dbt_mapped_tracks", "dbt_track_facts", "dbt_tracks_flow"):
        query = steps[view].view_query
        assert query is not None and set(query.args) & {"joins", "where", "order", "group"} == set()
        assert not list(query.find_all(exp.Window)) and query.args["from_"].this.name == "dbt_journey_events"
        assert "CREATE" in steps[view].statements[-1] and "VIEW" in steps[view].statements[-1]


def test_a_view_that_computes_is_refused(tmp_path, monkeypatch):
    from journeyctl import stages
    (tmp_path / "w.sql").write_text("SELECT id AS a FROM {{ source() }}")
    (tmp_path / "v.sql").write_text("{{ config(view=True) }} SELECT a + 1 AS b FROM {{ ref('w') }}")
    monkeypatch.setattr(stages, "template_dir", lambda: tmp_path)
    stages._environment.cache_clear()
    try:
        with pytest.raises(RenderError, match="a view may only select"):
            render_plan(params(), get_dialect("duckdb"))
    finally:
        stages._environment.cache_clear()


def test_takeover_rules(tmp_path, monkeypatch):
    """The widest plain projection takes its working table over, after the table's other
    readers; reordered or computed columns, or a projection another reader needs, are copied."""
    from journeyctl import stages

    files = {
        "w.sql": "{{ config(published=False) }} SELECT id AS a, id AS b, id AS c FROM {{ source() }}",
        "wide.sql": "SELECT a, c FROM {{ ref('w') }}",
        "narrow.sql": "SELECT b FROM {{ ref('w') }}",
        "reordered.sql": "SELECT c, a FROM {{ ref('w') }}",
        "computed.sql": "SELECT a + b AS s FROM {{ ref('w') }}",
        "zz_reader.sql": "SELECT a FROM {{ ref('w') }} WHERE b > 0",
    }
    for name, sql in files.items():
        (tmp_path / name).write_text(sql)
    monkeypatch.setattr(stages, "template_dir", lambda: tmp_path)
    stages._environment.cache_clear()
    try:
        steps = render_plan(params(), get_dialect("duckdb")).steps
        assert steps[-1].stage == "wide"
        assert steps[-1].statements[0] == 'ALTER TABLE "journey"."w"\nDROP COLUMN "b"'
        assert all(s.statements[0].startswith("CREATE") for s in steps[:-1])

        (tmp_path / "zz_reader.sql").write_text("SELECT a FROM {{ ref('w') }} JOIN {{ ref('wide') }} USING (a)")
        steps = render_plan(params(), get_dialect("duckdb")).steps
        by_stage = {s.stage: s.statements for s in steps}
        assert by_stage["wide"][0].startswith("CREATE")  # zz_reader needs it while w exists
        assert steps[-1].stage == "narrow" and "DROP COLUMN" in by_stage["narrow"][0]
    finally:
        stages._environment.cache_clear()


def test_printed_script_runs_twice_on_duckdb(tmp_path):
    """The script replaces its own tables: piping it again over the same database works."""
    import duckdb

    from tests import edge_events as E
    from tests.helpers import PUBLISHED

    for layout in ("views", "tables"):
        con = duckdb.connect(str(tmp_path / f"{layout}.duckdb"))
        con.execute(f"CREATE TABLE tracks ({', '.join(f'{n} {k}' for n, k in E.COLUMNS)})")
        con.executemany(f"INSERT INTO tracks VALUES ({', '.join('?' for _ in E.COLUMNS)})", E.ROWS)
        script = render_plan(params(layout=layout), get_dialect("duckdb")).script()
        for _ in range(2):
            con.execute(script)
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'journey'").fetchall()}
        assert tables == set(PUBLISHED) | ({"dbt_journey_events"} if layout == "views" else set())
    columns = [r[0] for r in con.execute("DESCRIBE journey.dbt_tracks_flow").fetchall()]
    assert columns == ["event_id", "session_id", "track_sequence_number", "event", "dbt_visitor_id",
                       "timestamp", "event_2", "event_3", "event_4", "event_5"]


def test_function_unknown_to_sqlglot_is_refused(tmp_path, monkeypatch):
    from journeyctl import render, stages

    (tmp_path / "bad_stage.sql").write_text("SELECT epoch_us(timestamp) AS x FROM {{ source() }}")
    monkeypatch.setattr(stages, "template_dir", lambda: tmp_path)
    stages._environment.cache_clear()
    with pytest.raises(RenderError, match=r"epoch_us\(\) is not known to sqlglot"):
        render.render_plan(params(), get_dialect("snowflake"))
    stages._environment.cache_clear()


def test_template_syntax_error_names_file_and_line(tmp_path, monkeypatch):
    from journeyctl import stages

    (tmp_path / "broken.sql").write_text("SELECT 1\n{% if %}\n")
    monkeypatch.setattr(stages, "template_dir", lambda: tmp_path)
    stages._environment.cache_clear()
    with pytest.raises(RenderError, match=r"broken.sql:2"):
        render_template("broken.sql", {})
    stages._environment.cache_clear()
