"""Failures never damage the published tables: fault injection on DuckDB.

Each case first publishes a good set of tables, then breaks a run in a different
way, and asserts the published tables are unchanged (row count and checksum) and
that the next run succeeds; in both layouts (`layout`, tests/warehouses.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from click.testing import CliRunner

from journeyctl.cli import cli
from journeyctl.errors import ConnectionFailed, ExecutionError
from journeyctl.preflight import preflight
from journeyctl.runner import execute_run, plan_run
from journeyctl.sample import load_sample
from tests import edge_events as E
from tests.helpers import duckdb_connector, fingerprint, load, params, run_pipeline, staging_tables


@pytest.fixture
def published(tmp_path, layout):
    """A DuckDB file with the edge events and a published build at idle timeout 45."""
    connector = duckdb_connector(tmp_path / "journey.duckdb")
    with connector:
        load(connector, "tracks", E.COLUMNS, E.ROWS)
        run_pipeline(connector, params(idle_timeout_minutes=45, layout=layout))
        before = fingerprint(connector, params())
    return connector, before


def test_stage_failure_leaves_tables_and_no_staging(published, layout):
    connector, before = published
    with connector:
        run = plan_run(connector, preflight(connector, params(layout=layout)))
        step = next(s for s in run.plan.steps if s.stage == "dbt_session_tracks")
        step.statements[0] = "SELECT error('injected failure in dbt_session_tracks')"
        with pytest.raises(ExecutionError, match="stage dbt_session_tracks failed .*injected failure"):
            execute_run(connector, run)
        assert fingerprint(connector, params()) == before
        assert staging_tables(connector, params().schema) == []
        run_pipeline(connector, params(layout=layout))
        assert fingerprint(connector, params()) != before


def test_failure_inside_publish_rolls_back(published, layout):
    connector, before = published
    with connector:
        run = plan_run(connector, preflight(connector, params(layout=layout)))
        run.publish.insert(len(run.publish) - 2, "SELECT error('injected failure while publishing')")
        with pytest.raises(ExecutionError, match="publish"):
            execute_run(connector, run)
        assert fingerprint(connector, params()) == before
        assert staging_tables(connector, params().schema) == []


def test_bad_value_in_source_fails_cleanly(published, tmp_path, layout):
    connector, before = published
    with connector:
        connector.execute("CREATE VIEW bad_tracks AS SELECT id, anonymous_id, user_id, timestamp, "
                          "CAST(CASE WHEN id = 'c3' THEN 'x' ELSE '1' END AS INTEGER)::VARCHAR AS event "
                          "FROM tracks")
        with pytest.raises(ExecutionError, match="Conversion Error"):
            run_pipeline(connector, params(source="bad_tracks", layout=layout))
        assert fingerprint(connector, params()) == before
        assert staging_tables(connector, params().schema) == []


def test_killed_process_leaves_tables_and_next_run_works(tmp_path, layout):
    path = tmp_path / "journey.duckdb"
    with duckdb_connector(path) as connector:
        load_sample(connector, params().source, 150_000, seed=3)
        run_pipeline(connector, params(idle_timeout_minutes=45, layout=layout))
        before = fingerprint(connector, params())
    proc = subprocess.Popen([sys.executable, "-m", "journeyctl", "run", "--layout", layout], cwd=tmp_path,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "JOURNEYCTL_CONFIG": ""})
    for line in proc.stderr:
        if "] journey_events:" in line:  # killed between stages
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with duckdb_connector(path) as connector:
        assert fingerprint(connector, params()) == before
        assert staging_tables(connector, params().schema)  # the killed run's leftovers …
        run_pipeline(connector, params(layout=layout))
        assert staging_tables(connector, params().schema) == []  # … are cleaned by the next run
        assert fingerprint(connector, params()) != before


def test_interrupt_drops_staging(published, layout):
    connector, before = published

    def interrupt(message):
        if "journey_events:" in message:
            raise KeyboardInterrupt

    with connector:
        with pytest.raises(KeyboardInterrupt):
            execute_run(connector, plan_run(connector, preflight(connector, params(layout=layout))), interrupt)
        assert fingerprint(connector, params()) == before
        assert staging_tables(connector, params().schema) == []


def test_unopenable_database_is_a_connection_error(tmp_path, monkeypatch):
    (tmp_path / "journey.duckdb").mkdir()  # a folder where the file should be
    with pytest.raises(ConnectionFailed):
        duckdb_connector(tmp_path / "journey.duckdb").open()
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["run"], env={"JOURNEYCTL_CONFIG": ""})
    assert result.exit_code == 3 and "cannot open DuckDB database" in result.stderr


def test_run_reports_rows_left_out(tmp_path, monkeypatch):
    with duckdb_connector(tmp_path / "journey.duckdb") as connector:
        load(connector, "tracks", E.COLUMNS, E.ROWS)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["run", "--format", "json"], env={"JOURNEYCTL_CONFIG": ""})
    assert result.exit_code == 0
    assert f"left out {E.DROPPED_BY_RULES} without id" in result.stderr
    assert f"{E.DUPLICATES_COLLAPSED} duplicate deliveries" in result.stderr
