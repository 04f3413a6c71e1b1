"""The command line as a user meets it: stdout is the product, errors are one clear line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from journeyctl.cli import cli
from tests import edge_events as E
from tests.helpers import duckdb_connector, load


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JOURNEYCTL_CONFIG", raising=False)
    return CliRunner()


def invoke(runner, *args, **kw):
    return runner.invoke(cli, list(args), catch_exceptions=False, **kw)


def test_render_prints_only_sql_on_stdout(runner):
    result = invoke(runner, "render", "--dialect", "snowflake")
    assert result.exit_code == 0
    assert result.stdout.startswith("-- journeyctl pipeline for snowflake")
    assert result.stderr == ""
    assert result.stdout.count("-- stage: ") == 7


def test_render_without_config_uses_duckdb(runner):
    assert "for duckdb" in invoke(runner, "render").stdout


def test_render_json(runner):
    data = json.loads(invoke(runner, "render", "-d", "bq", "--format", "json").stdout)
    stages = [d["stage"] for d in data]
    assert stages[0] == "setup" and stages[-1] == "cleanup"
    assert next(d for d in data if d["stage"] == "dbt_mapped_tracks")["inputs"] == ["journey_events"]


def test_render_output_dir(runner, tmp_path):
    result = invoke(runner, "render", "-d", "rs", "--output-dir", "out")
    assert result.exit_code == 0 and result.stdout == ""
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names[0] == "00_setup.sql" and names[1] == "01_chosen_copies.sql"
    assert names[-1] == "08_cleanup.sql"


def test_render_overrides(runner):
    out = invoke(runner, "render", "-d", "duckdb", "--source", "rudder.tracks", "--schema", "jx",
                 "--idle-timeout", "45", "--journey-length", "3").stdout
    assert 'FROM "rudder"."tracks"' in out and '"jx"."dbt_tracks_flow"' in out
    assert "> 45" in out and '"event_3"' in out and '"event_4"' not in out


def test_select_with_upstream(runner):
    out = invoke(runner, "render", "--select", "+dbt_mapped_tracks", "--layout", "tables").stdout
    assert [l for l in out.splitlines() if l.startswith("-- stage")] == [
        "-- stage: chosen_copies", "-- stage: dbt_aliases_mapping", "-- stage: journey_events",
        "-- stage: dbt_mapped_tracks"]
    # views: a view and the table it reads are one set of rows, so its sibling views come along
    out = invoke(runner, "render", "--select", "+dbt_mapped_tracks").stdout
    assert [l for l in out.splitlines() if l.startswith("-- stage")] == [
        "-- stage: chosen_copies", "-- stage: dbt_aliases_mapping", "-- stage: journey_events",
        "-- stage: dbt_mapped_tracks", "-- stage: dbt_track_facts", "-- stage: dbt_tracks_flow"]


@pytest.mark.parametrize("args,message", [
    (["render", "--dialect", "oracle"], "Invalid value for '--dialect'"),
    (["render", "--source", "journey; drop table x; --"], "is not a valid name"),
    (["render", "--schema", "a.b.c"], "use 1 or 2"),
    (["render", "--source", "a.b.c.d"], "use 1 to 3"),
    (["render", "--idle-timeout", "0"], "must be > 0"),
    (["render", "--idle-timeout", "nan"], "must be a number"),
    (["render", "--journey-length", "1"], "between 2 and 50"),
    (["render", "--select", "nope"], "names no stage"),
    (["run", "--target", "missing"], "no target named 'missing'"),
])
def test_bad_input_is_one_clear_error(runner, args, message):
    result = invoke(runner, *args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_config_file_unknown_key_suggests(runner, tmp_path):
    (tmp_path / "journeyctl.toml").write_text("[pipeline]\nidle_timeout = 30\n")
    result = invoke(runner, "render")
    assert result.exit_code == 2
    assert "unknown key 'idle_timeout'" in result.stderr and "idle_timeout_minutes" in result.stderr


def test_config_file_and_env(runner, tmp_path, monkeypatch):
    (tmp_path / "journeyctl.toml").write_text(
        'default_target = "local"\n[pipeline]\nsource = "${SRC}"\nschema = "out"\njourney_length = 4\n'
        '[targets.local]\ntype = "duckdb"\npath = "x.duckdb"\n')
    monkeypatch.setenv("SRC", "raw.tracks")
    out = invoke(runner, "render").stdout
    assert 'FROM "raw"."tracks"' in out and '"out"."dbt_tracks_flow"' in out and '"event_4"' in out
    monkeypatch.delenv("SRC")
    result = invoke(runner, "render")
    assert result.exit_code == 2 and "${SRC}" in result.stderr


def test_run_dry_run_shows_staging_and_publish(runner):
    out = invoke(runner, "run", "--dry-run").stdout
    assert "-- stage dbt_aliases_mapping" in out and "__jc_" in out
    assert "-- publish\nBEGIN" in out and "RENAME TO" in out and "-- publish\nCOMMIT" in out


def test_run_builds_and_reports(runner, tmp_path):
    with duckdb_connector(tmp_path / "journey.duckdb") as c:
        load(c, "tracks", E.COLUMNS, E.ROWS)
    result = invoke(runner, "run", "--format", "json")
    assert result.exit_code == 0
    summary = json.loads(result.stdout)
    rows = {s["stage"]: s["rows"] for s in summary["stages"]}
    assert rows["dbt_track_facts"] == 13 and rows["dbt_session_tracks"] == 6
    assert "dbt_track_facts" in result.stderr and "done:" in result.stderr


def test_run_without_source_table_says_what_to_do(runner):
    result = invoke(runner, "run")
    assert result.exit_code == 2
    assert "source table tracks does not exist" in result.stderr and "journeyctl sample" in result.stderr


def test_run_source_missing_column(runner, tmp_path):
    with duckdb_connector(tmp_path / "journey.duckdb") as c:
        c.execute("CREATE TABLE tracks (id VARCHAR, anonymous_id VARCHAR, timestamp TIMESTAMP, event VARCHAR)")
    result = invoke(runner, "run")
    assert result.exit_code == 2 and "lacks column(s): user_id" in result.stderr


def test_run_timestamp_not_a_timestamp(runner, tmp_path):
    with duckdb_connector(tmp_path / "journey.duckdb") as c:
        c.execute("CREATE TABLE tracks (id VARCHAR, anonymous_id VARCHAR, user_id VARCHAR, "
                  "timestamp VARCHAR, event VARCHAR)")
    result = invoke(runner, "run")
    assert result.exit_code == 2 and "not a timestamp" in result.stderr


def test_sample_then_run(runner):
    assert invoke(runner, "sample", "--events", "3000").exit_code == 0
    assert invoke(runner, "run").exit_code == 0


def test_stages_lists_the_dag(runner):
    out = invoke(runner, "stages").stdout
    assert "dbt_session_tracks   ← journey_events" in out
    assert "working table" in out


def test_demo_in_an_empty_folder(runner, tmp_path):
    result = invoke(runner, "demo", "--events", "5000")
    assert result.exit_code == 0
    assert "sessions" in result.stdout and "top 10 journeys" in result.stdout
    assert "Order Completed" in result.stdout.split("funnel: per visitor")[1]  # it ends with a funnel
    assert "top paths after Product Viewed" in result.stdout and "\nProduct Viewed → " in result.stdout
    assert (tmp_path / "journey.duckdb").exists()
    assert (tmp_path / "journey-report.html").exists()
    assert f"report: {tmp_path / 'journey-report.html'}" in result.stderr


def test_help_teaches_with_examples(runner):
    for command in ["render", "run", "stages", "paths", "sample", "demo", "test", "report", "funnel"]:
        out = invoke(runner, command, "--help").stdout
        assert "Example" in out, command
    assert "Exit codes" in invoke(runner, "--help").stdout


def test_version(runner):
    assert invoke(runner, "--version").stdout.startswith("journeyctl, version ")
