"""ClickHouse on the real engine: embedded (chdb, `path`) and the rendered script on its own.

The parametrised warehouse tests run the server path (clickhouse-connect to the chdb HTTP front,
tests/standins/clickhouse.py) with all-Nullable sources, as journeyctl's loader makes them. These
tests add what those hide: a source whose id, timestamp (and event) columns are declared
non-Nullable, as a ClickHouse table usually is, where lag/lead past a partition's edge and a
LEFT JOIN's missing side give '' or 1970-01-01 instead of NULL unless the SQL prevents it; the
rendered script on a session with ClickHouse's default settings; the process time zone; one
process per data directory.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap

import pytest

from journeyctl.config import Target
from journeyctl.connectors import connect
from journeyctl.errors import ConfigError
from journeyctl.layout import DEFAULT_LAYOUT
from tests import edge_events as E
from tests import test_connectors_equivalence as eq
from tests import test_datatests as dt
from tests import test_safe_runs_warehouses as safe
from tests.helpers import (PUBLISHED, duckdb_connector, fingerprint, load, normalised, params,
                           read_tables, run_pipeline, schema_tables, staging_tables)
from tests.reference import journeys
from tests.standins import import_client, start_clickhouse
from tests.test_reference import COLUMNS as ADVERSARIAL_COLUMNS, adversarial_rows
from tests.test_safe_runs_warehouses import CHANGED_BY_TIMEOUT, Held, command, publish
from tests.warehouses import Warehouse, journeyctl, make_warehouse


@pytest.fixture(autouse=True)
def chdb_installed():
    """chdb comes with journeyctl[clickhouse] (.ci/clickhouse.sh); missing: skipped here, failed in CI."""
    import_client("chdb")


STRICT_SOURCE = """CREATE TABLE tracks (
  id String, anonymous_id Nullable(String), user_id Nullable(String), timestamp DateTime64(6, 'UTC'),
  received_at Nullable(DateTime64(6, 'UTC')), event {event}, context_page_path Nullable(String)
) ENGINE = MergeTree ORDER BY tuple()"""
"""A source declared as a ClickHouse user would: non-Nullable where the contract allows it."""

USABLE_EDGE_ROWS = [r for r in E.ROWS if r[0] is not None and r[3] is not None]


def embedded(tmp_path) -> Warehouse:
    return Warehouse("clickhouse", {"path": "journey.chdb"}, source="tracks", schema="journey",
                     base_dir=tmp_path)


def load_strict(w: Warehouse, columns, rows, event: str = "String") -> None:
    with w.connector() as c:
        c.execute(STRICT_SOURCE.format(event=event))
        c.insert_rows(params().source, columns, rows)


def duckdb_tables(tmp_path, columns, rows, **kw) -> dict[str, set[tuple]]:
    with duckdb_connector(tmp_path / "ref.duckdb") as c:
        load(c, "tracks", columns, rows)
        run_pipeline(c, params(**kw))
        return read_tables(c, params(**kw))


def test_non_nullable_source_gives_duckdbs_rows(tmp_path):
    """Through the CLI in this process (the session is closed and reopened between commands)."""
    w = embedded(tmp_path)
    load_strict(w, E.COLUMNS, USABLE_EDGE_ROWS)
    result = journeyctl(w.config(), "run", "--target", "clickhouse", "--test")
    assert result.exit_code == 0, result.stderr
    with w.connector() as c:
        assert c.columns(params().source)["id"] == "STRING"
        built = read_tables(c, params())
    assert built == duckdb_tables(tmp_path, E.COLUMNS, USABLE_EDGE_ROWS)
    first = next(r for r in built["dbt_mapped_tracks"] if r[0] == "a1")
    assert first[-1] is None  # lag past the edge: NULL, not 1970-01-01's gap


@pytest.mark.parametrize("seed,timeout,length", [(0, 30, 5), (1, 45, 3), (2, 0.5, 2)])
def test_random_adversarial_events_match_the_reference(tmp_path, seed, timeout, length):
    rows = [r for r in adversarial_rows(seed) if r["id"] is not None and r["timestamp"] is not None]
    columns = ADVERSARIAL_COLUMNS + [("context_page_path", "VARCHAR")]
    p = params(idle_timeout_minutes=timeout, journey_length=length)
    w = embedded(tmp_path)
    load_strict(w, columns, [tuple(r.get(c) for c, _ in columns) for r in rows], event="Nullable(String)")
    with w.connector() as c:
        run_pipeline(c, p)
        built = read_tables(c, p)
    assert built == normalised(journeys(rows, timeout, length))


def run_script(session, script: str) -> None:
    for statement in script.split(";\n"):
        if statement.strip() and not all(line.startswith("--") for line in statement.strip().splitlines()):
            session.query(statement)


def test_rendered_script_alone_on_default_settings(tmp_path):
    """`journeyctl render -d ch`, run as is on a session with ClickHouse's defaults (no
    join_use_nulls): the contract's rows, as a script piped into clickhouse-client gives them."""
    from chdb import session

    w = embedded(tmp_path)
    load_strict(w, E.COLUMNS, USABLE_EDGE_ROWS)
    script = journeyctl(w.config(), "render", "--dialect", "ch").stdout
    s = session.Session(str(tmp_path / "journey.chdb"))
    try:
        assert str(s.query("SELECT getSetting('join_use_nulls')")).strip() == "false"
        run_script(s, script)
    finally:
        s.close()
    with w.connector() as c:
        assert read_tables(c, params()) == duckdb_tables(tmp_path, E.COLUMNS, USABLE_EDGE_ROWS)


DST = textwrap.dedent("""
    import sys
    from pathlib import Path
    from chdb import session
    from journeyctl.config import Target
    from journeyctl.connectors import connect
    from journeyctl.dialects import get_dialect
    from journeyctl.render import render_plan
    from tests.helpers import params, run_pipeline
    from tests.test_connectors_clickhouse import run_script

    base = Path(sys.argv[1])
    s = session.Session(str(base / "db"))
    # A naive DateTime64 column: ClickHouse reads its text in the process zone (New York here).
    s.query("CREATE TABLE tracks (id String, anonymous_id Nullable(String), user_id Nullable(String), "
            "timestamp DateTime64(6), event String) ENGINE = MergeTree ORDER BY tuple()")
    s.query("INSERT INTO tracks VALUES ('e1', 'a', NULL, '2026-03-08 01:50:00', 'x'), "
            "('e2', 'a', NULL, '2026-03-08 03:10:00', 'y')")  # 01:50 EST, 03:10 EDT: 20 minutes
    print(s.query("SELECT timezone()", "TabSeparated").bytes().decode().strip())
    run_script(s, render_plan(params(has_received_at=False), get_dialect("ch")).script())
    print(s.query("SELECT idle_time_minutes FROM journey.dbt_mapped_tracks ORDER BY event_id",
                  "TabSeparated").bytes().decode().split())
    s.close()
    with connect(Target("ch", "clickhouse", {"path": "db"}, base)) as c:
        run_pipeline(c, params(schema="again"))
        print(c.query("SELECT idle_time_minutes FROM again.dbt_mapped_tracks ORDER BY event_id"))
""")


def test_twenty_minutes_across_a_dst_jump_in_new_york_are_twenty(tmp_path):
    proc = subprocess.run([sys.executable, "-c", DST, str(tmp_path)], capture_output=True, text=True,
                          timeout=120, env={"TZ": "America/New_York", "PATH": "/usr/bin:/bin",
                                            "PYTHONPATH": ":".join(sys.path)}, check=False)
    assert proc.returncode == 0, proc.stderr
    zone, script_gaps, run_gaps = proc.stdout.splitlines()
    assert zone == "America/New_York"
    assert script_gaps == "['\\\\N', '20']"
    assert run_gaps == "[(None,), (20.0,)]"


def test_killed_run_leaves_the_published_tables_and_the_next_run_drops_its_leftovers(tmp_path):
    """One process owns the data directory: a second run while one is held exits 3 saying so;
    after a SIGKILL the published tables are intact and the next run drops the staging tables."""
    w = embedded(tmp_path)
    before = publish(w)
    config = w.config()
    held = Held(config, "run", "--target", "clickhouse", at="] journey_events ")
    second = subprocess.run(command(config, "run", "--target", "clickhouse"), capture_output=True,
                            text=True, timeout=60, check=False)
    assert second.returncode == 3, second.stderr
    assert "is in use by another process" in second.stderr and "Traceback" not in second.stderr
    assert held.kill() == -9
    with w.connector() as c:
        assert fingerprint(c, w.params()) == before
        left = staging_tables(c, "journey")
    assert left
    result = journeyctl(config, "run", "--target", "clickhouse")
    assert result.exit_code == 0, result.stderr
    assert f"dropping {len(left)} staging table(s) left by an interrupted run" in result.stderr
    with w.connector() as c:
        assert schema_tables(c, "journey") == w.relations
        after = fingerprint(c, w.params())
    assert {t for t in PUBLISHED if after[t] != before[t]} == CHANGED_BY_TIMEOUT


def test_no_secret_in_any_output(clickhouse, monkeypatch):
    """Server path: the password (from ${VAR}) never shows, even where ClickHouse's own error
    message quotes it (a stage failing on a view whose event is the secret cast to Int32)."""
    secret = clickhouse.options["password"]
    monkeypatch.setenv("JC_TEST_CH_PASSWORD", secret)
    clickhouse.load()
    bad = clickhouse.source.replace("tracks", "bad_tracks")
    with clickhouse.connector() as c:
        c.execute(f"CREATE VIEW {bad} AS SELECT id, anonymous_id, user_id, timestamp, "
                  f"toString(CAST(concat('{secret} ', id) AS Int32)) AS event FROM {clickhouse.source}")
    config = clickhouse.config(password="${JC_TEST_CH_PASSWORD}")
    runs = {("--verbose", "run", "--source", bad): 4, ("debug",): 0, ("run",): 0,
            ("--debug", "run", "--source", bad): 1}
    for args, code in runs.items():
        proc = subprocess.run(command(config, *args), capture_output=True, text=True, timeout=120,
                              check=False)
        assert proc.returncode == code, proc.stderr
        assert secret not in proc.stdout + proc.stderr, f"{args} shows the password"
        if "--source" in args:
            assert "***" in proc.stderr
    closed = clickhouse.config(port=9, timeout=1)
    proc = subprocess.run(command(closed, "debug"), capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 3 and secret not in proc.stdout + proc.stderr


@pytest.mark.parametrize("options", [{}, {"path": "a.chdb", "host": "localhost"}])
def test_path_or_host_one_of_them(tmp_path, options):
    with pytest.raises(ConfigError, match="either path .* or host"):
        connect(Target("ch", "clickhouse", options, tmp_path))


def test_render_needs_no_clickhouse_client():
    """The dialect is data over sqlglot: rendering imports neither chdb nor clickhouse-connect."""
    code = ("import sys; from journeyctl.render import render_plan; from journeyctl.dialects import get_dialect;"
            "from tests.helpers import params; render_plan(params(), get_dialect('ch'));"
            "assert not {'chdb', 'clickhouse_connect'} & set(sys.modules), sys.modules.keys()")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_missing_client_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "chdb.session", None)  # as if chdb were not installed
    with pytest.raises(ConfigError, match="needs chdb.session") as e:
        connect(Target("ch", "clickhouse", {"path": "db"}, tmp_path)).open()
    assert e.value.hint == "pip install 'journeyctl[clickhouse]'"


def test_twenty_minutes_across_a_dst_jump_on_a_new_york_server_are_twenty(tmp_path):
    """Server path: clickhouse-connect to a server whose zone is New York, a naive DateTime64
    source written in New York wall-clock time: 01:50 EST → 03:10 EDT is 20 minutes."""
    standin = start_clickhouse(zone="America/New_York")
    try:
        w = make_warehouse("clickhouse", standin, tmp_path)
        with w.connector() as c:
            assert c.query("SELECT timezone()") == [("America/New_York",)]
            c.execute("CREATE DATABASE " + w.source.split(".")[0])
            c.execute(f"CREATE TABLE {w.source} (id String, anonymous_id Nullable(String), "
                      "user_id Nullable(String), timestamp DateTime64(6), event String) "
                      "ENGINE = MergeTree ORDER BY tuple()")
            c.execute(f"INSERT INTO {w.source} VALUES ('e1', 'a', NULL, '2026-03-08 01:50:00', 'x'), "
                      "('e2', 'a', NULL, '2026-03-08 03:10:00', 'y')")
        result = journeyctl(w.config(), "run", "--target", "clickhouse")
        assert result.exit_code == 0, result.stderr
        with w.connector() as c:
            gaps = c.query(f"SELECT idle_time_minutes FROM {w.schema}.dbt_mapped_tracks ORDER BY event_id")
        assert gaps == [(None,), (20.0,)]
    finally:
        standin.stop()


def test_a_text_timestamp_column_is_refused_before_any_sql_runs(tmp_path):
    w = embedded(tmp_path)
    with w.connector() as c:
        c.execute("CREATE TABLE tracks (id String, anonymous_id Nullable(String), user_id Nullable(String), "
                  "timestamp String, event String) ENGINE = MergeTree ORDER BY tuple()")
    result = journeyctl(w.config(), "run", "--target", "clickhouse")
    assert result.exit_code == 2
    assert "source column tracks.timestamp is STRING, not a timestamp" in result.stderr


@pytest.mark.parametrize("shared_test", [
    eq.test_run_builds_the_same_rows_as_duckdb, eq.test_sample_events_give_the_same_rows_as_duckdb,
    eq.test_run_leaves_only_the_published_tables, eq.test_second_run_replaces_the_published_tables,
    eq.test_run_summary_counts_rows_left_out, eq.test_execution_error_keeps_the_warehouse_message,
    safe.test_stage_failure_leaves_the_published_tables, safe.test_failure_inside_publish,
    dt.test_data_tests_pass_after_a_run_on_each_warehouse_and_catch_a_deleted_event,
    dt.test_report_on_each_warehouse,
], ids=lambda f: f.__name__)
def test_embedded_passes_the_warehouse_tests(shared_test, tmp_path):
    """The parametrised warehouse tests (run there on the server path, in both layouts), on embedded
    chdb in the default layout."""
    layout = {"layout": DEFAULT_LAYOUT} if "layout" in inspect.signature(shared_test).parameters else {}
    shared_test(embedded(tmp_path), **layout)


@pytest.mark.parametrize("seed", [3, 4])
def test_random_adversarial_events_with_every_null_on_the_server_path(clickhouse, seed):
    """All rows, unusable ones too (NULL ids and timestamps: a Nullable source), through the server."""
    rows = adversarial_rows(seed)
    clickhouse.load(rows=[tuple(r[c] for c, _ in ADVERSARIAL_COLUMNS) for r in rows],
                    columns=ADVERSARIAL_COLUMNS)
    result = journeyctl(clickhouse.config(), "run", "--target", "clickhouse")
    assert result.exit_code == 0, result.stderr
    with clickhouse.connector() as c:
        built = read_tables(c, clickhouse.params())
    assert built == normalised(journeys(rows))
