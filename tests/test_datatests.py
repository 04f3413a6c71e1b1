"""Data tests: every one passes on correctly built tables, and each catches its corruption.

The edge events (tests/edge_events.py) are built on DuckDB, one table is damaged the way
a buggy pipeline would, and the data test written for that rule must fail and show the
damaged row among its examples.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlglot import exp

from journeyctl.cli import cli
from journeyctl.datatests import data_test_names, render_data_tests, run_data_tests
from journeyctl.dialects import DIALECTS, drop_table, get_dialect
from journeyctl.errors import ConfigError
from journeyctl.names import TableName
from journeyctl.sample import load_sample
from tests import edge_events as E
from tests.helpers import duckdb_connector, edge_events_folder, load, params, run_pipeline
from tests.warehouses import journeyctl

# What goes wrong → (statement on the built DuckDB tables, the data test that must fail,
# a value that must appear in its examples).
CORRUPTIONS = {
    "an event duplicated into a second session": (
        "INSERT INTO journey.dbt_track_facts SELECT anonymous_id, timestamp, event_id, event, "
        "'2 - anon-a', dbt_visitor_id, 3 FROM journey.dbt_track_facts WHERE event_id = 'a2'",
        "source_events_in_facts_once", "a2"),
    "an event deleted": (
        "DELETE FROM journey.dbt_track_facts WHERE event_id = 'c2'",
        "source_events_in_facts_once", "c2"),
    "an idle gap above the timeout inside a session (two sessions merged)": (
        "UPDATE journey.dbt_track_facts SET session_id = '1 - anon-a', "
        "track_sequence_number = track_sequence_number + 2 WHERE session_id = '2 - anon-a'",
        "session_gaps", "a3"),
    "a duplicate alias": (
        "INSERT INTO journey.dbt_aliases_mapping VALUES ('dev-1', 'user-1')",
        "aliases_unique", "dev-1"),
    "a hole in track_sequence_number": (
        "UPDATE journey.dbt_track_facts SET track_sequence_number = 4 WHERE event_id = 'd1'",
        "track_sequence_numbers", "d1"),
    "a wrong event_2": (
        "UPDATE journey.dbt_tracks_flow SET event_2 = 'Order Completed' WHERE event_id = 'a1'",
        "flow_matches_facts", "a1"),
    "a NULL session id": (
        "UPDATE journey.dbt_track_facts SET session_id = NULL WHERE event_id = 'b1'",
        "key_columns_not_null", "session_id"),
    "a session listed twice": (
        "INSERT INTO journey.dbt_session_tracks SELECT * FROM journey.dbt_session_tracks "
        "WHERE session_id = '1 - user-1'",
        "session_ids_unique", "1 - user-1"),
    "a session start that is not its first event": (
        "UPDATE journey.dbt_session_tracks SET session_start_at = TIMESTAMP '2026-11-02 09:10:00' "
        "WHERE session_id = '1 - user-1'",
        "sessions_match_facts", "1 - user-1"),
    "a wrong next_session_start_at": (
        "UPDATE journey.dbt_session_tracks SET next_session_start_at = NULL WHERE session_id = '1 - anon-a'",
        "session_numbering", "1 - anon-a"),
    "an idle gap off by a minute": (
        "UPDATE journey.dbt_mapped_tracks SET idle_time_minutes = idle_time_minutes + 1 "
        "WHERE event_id = 'c2'",
        "idle_minutes_exact", "c2"),
    "an event given another visitor in dbt_mapped_tracks": (
        "UPDATE journey.dbt_mapped_tracks SET dbt_visitor_id = 'user-1' WHERE event_id = 'c3'",
        "facts_match_mapped_tracks", "c3"),
}


@pytest.fixture
def built(tmp_path):
    """The edge events built in the tables layout: each table can be corrupted on its own (in the
    views layout, three of them are views of one table)."""
    with duckdb_connector(tmp_path / "j.duckdb") as connector:
        load(connector, "tracks", E.COLUMNS, E.ROWS)
        run_pipeline(connector, params(layout="tables"))
        yield connector


def failed(connector, p=None) -> dict:
    p = p or params()
    return {r.name: r for r in run_data_tests(connector, p).failed}


def test_every_data_test_passes_on_the_edge_events(tmp_path, layout):
    with duckdb_connector(tmp_path / "j.duckdb") as connector:
        load(connector, "tracks", E.COLUMNS, E.ROWS)
        run_pipeline(connector, params(layout=layout))
        run = run_data_tests(connector, params(layout=layout))
    assert [r.name for r in run.results] == data_test_names()
    assert run.passed, [(r.name, r.examples) for r in run.failed]


def test_every_data_test_passes_on_synthetic_events(tmp_path):
    with duckdb_connector(tmp_path / "j.duckdb") as connector:
        load_sample(connector, TableName.parse("tracks"), 20_000, seed=7)
        run_pipeline(connector, params())
        assert failed(connector) == {}


def test_every_data_test_passes_with_other_parameters(built):
    p = params(idle_timeout_minutes=60, journey_length=3)
    run_pipeline(built, p)
    assert failed(built, p) == {}


def test_a_source_without_received_at(tmp_path):
    columns = [c for c in E.COLUMNS if c[0] != "received_at"]
    rows = [r[:4] + r[5:] for r in E.ROWS if not r[5].startswith("DUPLICATE")]
    with duckdb_connector(tmp_path / "j.duckdb") as connector:
        load(connector, "tracks", columns, [*rows, rows[0]])
        run_pipeline(connector, params())
        assert failed(connector) == {}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_each_corruption_is_caught(built, corruption):
    sql, test, culprit = CORRUPTIONS[corruption]
    built.execute(sql)
    failures = failed(built)
    assert test in failures, f"{corruption}: only {sorted(failures)} failed"
    result = failures[test]
    assert result.offending >= 1 and result.examples
    assert any(culprit in row for row in result.examples), result.examples


def test_every_data_test_has_a_corruption_it_catches():
    assert {test for _, test, _ in CORRUPTIONS.values()} == set(data_test_names())


def test_testing_with_another_idle_timeout_than_the_build_fails(built):
    # Built with 30 minutes; at 60 minutes anon-a's sessions should have been one.
    assert "session_gaps" in failed(built, params(idle_timeout_minutes=60))


def test_a_journey_length_other_than_the_build_is_a_usage_error(built):
    with pytest.raises(ConfigError, match="built with journey length 5, not 3"):
        run_data_tests(built, params(journey_length=3))


def test_tables_not_built_is_a_usage_error(tmp_path):
    with duckdb_connector(tmp_path / "j.duckdb") as connector:
        load(connector, "tracks", E.COLUMNS, E.ROWS)
        with pytest.raises(ConfigError, match="lacks the journey table"):
            run_data_tests(connector, params())


def test_examples_are_capped_and_the_count_is_total(built):
    built.execute("DELETE FROM journey.dbt_track_facts")
    result = failed(built)["source_events_in_facts_once"]
    assert result.offending == len(E.MAPPED_TRACKS) and len(result.examples) == 5
    assert result.columns == ["event_id", "rows_in_facts", "problem"]
    assert result.examples[0] == ("a1", 0, "missing from dbt_track_facts")


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_every_data_test_renders_for_every_dialect(dialect):
    for p in (params(source="rudder.tracks"), params(journey_length=2, has_received_at=False)):
        tests = render_data_tests(p, get_dialect(dialect))
        assert [t.name for t in tests] == data_test_names()
        for t in tests:
            assert t.description and "offending_rows" in t.sql.lower()
            assert "QUALIFY" not in t.sql and "IS DISTINCT FROM" not in t.sql


# --- the command line -----------------------------------------------------------

@pytest.fixture
def runner(tmp_path, monkeypatch):
    edge_events_folder(tmp_path, monkeypatch)
    return CliRunner()


def invoke(runner, *args):
    return runner.invoke(cli, list(args), catch_exceptions=False)


def test_run_then_test_passes(runner):
    assert invoke(runner, "run").exit_code == 0
    result = invoke(runner, "test")
    assert result.exit_code == 0, result.stderr
    assert f"all {len(data_test_names())} data tests passed" in result.stdout
    assert "pass    session_gaps" in result.stdout


def test_a_failed_data_test_exits_5_with_examples(runner, tmp_path):
    invoke(runner, "run", "--layout", "tables")
    with duckdb_connector(tmp_path / "journey.duckdb") as connector:
        connector.execute(CORRUPTIONS["a hole in track_sequence_number"][0])
    result = invoke(runner, "test")
    assert result.exit_code == 5
    assert "FAIL    track_sequence_numbers" in result.stdout
    assert "FAIL track_sequence_numbers: track_sequence_number runs 1" in result.stdout
    assert "d1" in result.stdout.split("FAIL track_sequence_numbers")[1]
    assert "data tests failed" in result.stderr and "track_sequence_numbers" in result.stderr


def test_run_with_test(runner):
    result = invoke(runner, "run", "--test", "--idle-timeout", "60", "--journey-length", "3")
    assert result.exit_code == 0, result.stderr
    assert "data tests passed" in result.stdout
    assert "[1/11]" not in result.stdout and "aliases_unique: pass" in result.stderr


def test_run_with_test_json(runner):
    data = json.loads(invoke(runner, "run", "--test", "--format", "json").stdout)
    assert data["data_tests"]["passed"] is True
    assert {t["test"] for t in data["data_tests"]["tests"]} == set(data_test_names())


def test_test_takes_the_parameters_of_the_run(runner):
    invoke(runner, "run", "--idle-timeout", "60")
    assert invoke(runner, "test").exit_code == 5  # sessions cut at 60, tested at 30
    assert invoke(runner, "test", "--idle-timeout", "60").exit_code == 0


def test_test_json_and_one_test_by_name(runner):
    invoke(runner, "run")
    data = json.loads(invoke(runner, "test", "aliases_unique", "--format", "json").stdout)
    assert [t["test"] for t in data["tests"]] == ["aliases_unique"]


def test_test_list(runner):
    out = invoke(runner, "test", "--list").stdout
    assert all(name in out for name in data_test_names())


def test_unknown_test_and_unbuilt_tables_are_usage_errors(runner):
    result = invoke(runner, "test")
    assert result.exit_code == 2 and "journeyctl run" in result.stderr
    invoke(runner, "run")
    result = invoke(runner, "test", "no_such_test")
    assert result.exit_code == 2 and "session_gaps" in result.stderr


def test_run_dry_run_with_test_prints_the_test_queries(runner):
    out = invoke(runner, "run", "--dry-run", "--test").stdout
    assert out.count("-- data test ") == len(data_test_names())


# --- on each warehouse's stand-in (tests/warehouses.py) ------------------------------

def test_data_tests_pass_after_a_run_on_each_warehouse_and_catch_a_deleted_event(warehouse):
    warehouse.load()
    config = warehouse.config()
    result = journeyctl(config, "run", "--target", warehouse.engine, "--test")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"all {len(data_test_names())} data tests passed" in result.stdout

    # the table holding dbt_track_facts' rows: dbt_journey_events, of which it is a view (layout views)
    facts = params(source=warehouse.source, schema=warehouse.schema).table_for("journey_events")
    with warehouse.connector() as c:
        if warehouse.engine == "spark":  # plain Spark tables have no DELETE: rebuild without the row
            kept = TableName((*facts.parts[:-1], "facts_kept"))
            for statement in (
                exp.Create(this=kept.to_table(), kind="TABLE",
                           expression=exp.select("*").from_(facts.to_table()).where("event_id <> 'c2'")),
                drop_table(facts.to_table()),
                exp.Alter(this=kept.to_table(), kind="TABLE", actions=[exp.AlterRename(this=facts.to_table())]),
            ):
                c.execute(c.render(statement))
        else:
            c.execute(c.render(exp.delete(facts.to_table(), where="event_id = 'c2'")))
    result = journeyctl(config, "test", "--target", warehouse.engine)
    assert result.exit_code == 5, result.stdout + result.stderr
    assert "FAIL    source_events_in_facts_once" in result.stdout
    assert "c2" in result.stdout.split("FAIL source_events_in_facts_once")[1]


def test_report_on_each_warehouse(warehouse):
    warehouse.load()
    config = warehouse.config()
    assert journeyctl(config, "run", "--target", warehouse.engine).exit_code == 0
    result = journeyctl(config, "report", "--target", warehouse.engine, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["events"], data["visitors"], data["sessions"]) == (13, 3, 6)
    assert data["durations"] == [["0 s", 2], ["under 1 min", 1], ["15-30 min", 2], ["30-60 min", 1]]
    assert sorted(map(tuple, data["transitions"]))[0] == ("Checkout Started", "Order Completed", 1)
