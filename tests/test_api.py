"""journeyctl.api as an orchestrator calls it: in-process, with parameters, results and typed errors."""

from __future__ import annotations

import pytest

import journeyctl
from journeyctl import api
from journeyctl.errors import (ConfigError, ConnectionFailed, DataTestFailed, ExecutionError, JourneyError,
                               RenderError)
from tests import edge_events as E
from tests.helpers import duckdb_connector, load, normalised, params, read_tables
from tests.warehouses import journeyctl as cli


@pytest.fixture
def config(tmp_path):
    """journeyctl.toml with a DuckDB target holding the edge events."""
    with duckdb_connector(tmp_path / "events.duckdb") as connector:
        load(connector, "tracks", E.COLUMNS, E.ROWS)
    path = tmp_path / "journeyctl.toml"
    path.write_text('[pipeline]\nschema = "journey"\n\n[targets.local]\ntype = "duckdb"\npath = "events.duckdb"\n')
    return path


def test_render_gives_statements_with_their_stage_names(config):
    script = api.render("redshift", config=config, idle_timeout_minutes=45, journey_length=3)
    stages = [s.stage for s in script.statements]
    assert stages[0] == "setup" and stages[-1] == "cleanup"
    assert {"chosen_copies", "journey_events", "dbt_tracks_flow"} <= set(stages)
    flow = " ".join(s.sql for s in script.statements if s.stage == "journey_events")
    assert "45" in flow and "event_3" in flow and "event_4" not in flow
    assert script.dialect == "redshift" and script.params.journey_length == 3


def test_render_is_what_the_cli_prints(config):
    assert api.render("bq", config=config).sql == cli(config, "render", "--dialect", "bq").stdout


def test_render_select_and_the_default_targets_dialect(config):
    script = api.render(config=config, select=["dbt_session_tracks"], layout="tables")
    assert script.dialect == "duckdb"
    # The working stages it reads come along; published ones are read where they are.
    assert {s.stage for s in script.statements} == {"setup", "cleanup", "chosen_copies",
                                                   "journey_events", "dbt_session_tracks"}
    # In the views layout journey_events is published (dbt_journey_events): read where it is.
    assert {s.stage for s in api.render(config=config, select=["dbt_session_tracks"]).statements} == {
        "setup", "dbt_session_tracks"}


@pytest.mark.parametrize("call, error, message", [
    (lambda c: api.render("oracle", config=c), ConfigError, "unknown dialect 'oracle'"),
    (lambda c: api.render("duckdb", config=c, journey_length=1), ConfigError, "journey_length must be between"),
    (lambda c: api.render("duckdb", config=c, source="a;drop"), ConfigError, "not a valid name"),
    (lambda c: api.render("duckdb", config=c, select=["nope"]), ConfigError, "names no stage"),
    (lambda c: api.render("duckdb", config=c, idle_timeout=45), ConfigError, "unknown key 'idle_timeout'"),
    (lambda c: api.run("missing", config=c), ConfigError, "no target named 'missing'"),
    (lambda c: api.run("local", config=c, source="no_such_table"), ConfigError, "does not exist"),
    (lambda c: api.run("local", config=c, timestamp_column="sent_at"), ConfigError, "lacks column"),
    (lambda c: api.render("duckdb", config=c.parent / "absent.toml"), ConfigError, "does not exist"),
])
def test_errors_are_journeyctls_typed_errors(config, call, error, message):
    with pytest.raises(error, match=message) as caught:
        call(config)
    assert isinstance(caught.value, JourneyError) and caught.value.exit_code == 2


def test_run_builds_the_five_tables_and_reports_how_it_went(config):
    lines = []
    result = api.run("local", config=config, test=True, report=lines.append)
    assert isinstance(result, journeyctl.RunResult)
    assert [s.stage for s in result.stages][-1] == "dbt_tracks_flow"
    assert (result.unusable_rows, result.duplicate_rows) == (E.DROPPED_BY_RULES, E.DUPLICATES_COLLAPSED)
    assert result.data_tests.passed and len(result.data_tests.results) >= 10
    assert result.as_json()["data_tests"]["passed"] is True
    assert any("connecting to" in line for line in lines)
    with duckdb_connector(config.parent / "events.duckdb") as connector:
        assert read_tables(connector, params()) == normalised(E.expected_tables())


def test_run_statements_is_the_dry_run(config):
    statements = api.run_statements("local", config=config, test=True)
    labels = {s.stage for s in statements}
    assert {"setup", "publish", "cleanup", "stage journey_events", "data test session_gaps"} <= labels
    assert any("CREATE VIEW" in s.sql and "dbt_tracks_flow" in s.sql for s in statements if s.stage == "publish")
    tables = api.run_statements("local", config=config, layout="tables")
    assert "stage dbt_tracks_flow" in {s.stage for s in tables}


def test_a_target_that_cannot_be_opened_raises_connection_failed(config, tmp_path):
    (tmp_path / "not-a-database.duckdb").write_text("just text")
    config.write_text('[targets.local]\ntype = "duckdb"\npath = "not-a-database.duckdb"\n')
    with pytest.raises(ConnectionFailed) as caught:
        api.run(config=config)
    assert caught.value.exit_code == 3


def test_a_failing_statement_raises_execution_error_and_keeps_the_published_tables(config):
    api.run("local", config=config)
    with duckdb_connector(config.parent / "events.duckdb") as connector:
        # a source whose ids cannot be compared: the alias stage fails
        connector.execute("CREATE OR REPLACE TABLE tracks AS SELECT * REPLACE ([anonymous_id] AS anonymous_id) "
                          "FROM tracks")
    with pytest.raises(ExecutionError) as caught:
        api.run("local", config=config)
    assert caught.value.exit_code == 4


def test_export_dbt_writes_the_project(config, tmp_path):
    written = api.export_dbt(tmp_path / "dbt", "snowflake", config=config, idle_timeout_minutes=20)
    assert (tmp_path / "dbt" / "dbt_project.yml") in written
    assert "journeyctl_idle_timeout_minutes: 20" in (tmp_path / "dbt" / "dbt_project.yml").read_text()


def test_the_api_is_loaded_on_first_use():
    assert journeyctl.run is api.run and journeyctl.Script is api.Script
    with pytest.raises(AttributeError):
        journeyctl.no_such_thing  # noqa: B018


def test_a_template_the_dialect_cannot_express_raises_render_error(config, tmp_path, monkeypatch):
    from journeyctl import stages
    (tmp_path / "bad_stage.sql").write_text("SELECT epoch_us(timestamp) AS x FROM {{ source() }}")
    monkeypatch.setattr(stages, "template_dir", lambda: tmp_path)
    stages._environment.cache_clear()
    with pytest.raises(RenderError, match="epoch_us") as caught:
        api.render("snowflake", config=config)
    stages._environment.cache_clear()
    assert caught.value.exit_code == 2


def test_a_failing_data_test_raises_data_test_failed_with_the_run(config, tmp_path, monkeypatch):
    import shutil

    from journeyctl import datatests, stages
    templates = tmp_path / "templates"
    shutil.copytree(stages.template_dir(), templates)
    (templates / "tests" / "no_events_at_all.sql").write_text(
        "{{ config(description='Fails whenever there are events.') }}\n"
        "SELECT event_id FROM {{ ref('dbt_track_facts') }}\n")
    for module in (stages, datatests):
        monkeypatch.setattr(module, "template_dir", lambda: templates)
    stages._environment.cache_clear()
    try:
        with pytest.raises(DataTestFailed, match="1 of 12 data tests failed") as caught:
            api.run("local", config=config, test=True)
        assert caught.value.exit_code == 5
        assert caught.value.result.stages and caught.value.result.data_tests is caught.value.tests
        assert [r.name for r in caught.value.tests.failed] == ["no_events_at_all"]
        shown = cli(config, "run", "--target", "local", "--test")
        assert shown.exit_code == 5 and "FAIL no_events_at_all" in shown.stdout
    finally:
        stages._environment.cache_clear()
