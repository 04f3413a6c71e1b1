"""`render --format dbt`: the project dbt builds, as it is and as an installed package.

dbt runs from its own venv (installed by `bash .ci/dbt.sh`, beside the stand-ins): the DuckDB
export is built by dbt-duckdb and must give the five tables `journeyctl run` gives on the same
events, its data tests passing; the Snowflake, BigQuery and Redshift exports are parsed and built
by their own adapters on the stand-ins (fakesnow, bqemulator, PostgreSQL behind the Redshift proxy),
giving the contract's tables.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from journeyctl import api
from tests import edge_events as E
from tests.helpers import duckdb_connector, load, normalised, params, read_tables
from tests.standins import cache_dir
from tests.test_timestamp_column import SEGMENT_COLUMNS, segment_rows
from tests.warehouses import Warehouse, journeyctl, make_warehouse

DBT_ADAPTERS = ["snowflake", "bigquery", "redshift"]
"""The warehouses whose dbt adapters .ci/dbt.sh installs (with dbt-duckdb)."""

STAGES = {"chosen_copies", "dbt_journey_events", "dbt_aliases_mapping", "dbt_mapped_tracks",
          "dbt_session_tracks", "dbt_track_facts", "dbt_tracks_flow"}
"""The models of the default layout (views); in the tables layout, journey_events for dbt_journey_events."""
PROFILES = """\
journeyctl:
  target: duckdb
  outputs:
    duckdb: {type: duckdb, path: "%(path)s", schema: journey, threads: 1}
"""


@pytest.fixture(scope="module")
def dbt_executable() -> Path:
    dbt = cache_dir() / "dbt" / "bin" / "dbt"
    if not dbt.exists():
        pytest.fail(f"dbt is not installed in {dbt.parent.parent}; run `bash .ci/dbt.sh`")
    return dbt


@pytest.fixture
def dbt(dbt_executable, tmp_path):
    """dbt COMMAND... in a project folder, with a profile whose DuckDB target is tmp_path/dbt.duckdb."""
    (tmp_path / "profiles.yml").write_text(PROFILES % {"path": tmp_path / "dbt.duckdb"})
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "False", "DBT_VERSION_CHECK": "False"}

    def run(project: Path, *args: str) -> str:
        done = subprocess.run([str(dbt_executable), *args, "--project-dir", str(project),
                               "--profiles-dir", str(tmp_path)],
                              cwd=project, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
        return done.stdout
    return run


CASES = {
    "defaults": ({}, E.COLUMNS, E.ROWS, E.expected_tables()),
    "layout tables": ({"layout": "tables"}, E.COLUMNS, E.ROWS, E.expected_tables()),
    "segment original_timestamp, timeout 60, length 3": (
        {"timestamp_column": "original_timestamp", "idle_timeout_minutes": 60, "journey_length": 3},
        SEGMENT_COLUMNS, segment_rows("original_timestamp"),
        E.expected_tables(E.SESSION_OF_60, E.NEXT_EVENTS_60_3, 3, E.SESSION_TRACKS_60)),
}


@pytest.mark.parametrize("case", CASES)
def test_duckdb_export_builds_what_journeyctl_run_builds(dbt, tmp_path, case):
    overrides, columns, rows, expected = CASES[case]
    config = tmp_path / "journeyctl.toml"
    config.write_text('[targets.local]\ntype = "duckdb"\npath = "run.duckdb"\n')
    for path in (tmp_path / "run.duckdb", tmp_path / "dbt.duckdb"):
        with duckdb_connector(path) as connector:
            load(connector, "tracks", columns, rows)
    api.run(config=config, **overrides)
    api.export_dbt(tmp_path / "export", "duckdb", config=config, **overrides)

    out = dbt(tmp_path / "export", "build", "--vars", "{journeyctl_source_schema: main}")
    assert f"PASS={len(STAGES) + 11} WARN=0 ERROR=0" in out  # every model and data test

    p = params(**{k: v for k, v in overrides.items() if k != "timestamp_column"})
    views = {n for n in STAGES if (tmp_path / "export" / "models" / f"{n}.sql").exists()
             and "materialized='view'" in (tmp_path / "export" / "models" / f"{n}.sql").read_text()}
    assert views == (set() if overrides.get("layout") == "tables" else
                     {"dbt_mapped_tracks", "dbt_track_facts", "dbt_tracks_flow"})
    with duckdb_connector(tmp_path / "run.duckdb") as connector:
        by_journeyctl = read_tables(connector, p)
    with duckdb_connector(tmp_path / "dbt.duckdb") as connector:
        by_dbt = read_tables(connector, p)
    assert by_dbt == by_journeyctl == normalised(expected)


def test_export_works_as_a_package_of_another_project(dbt, tmp_path):
    with duckdb_connector(tmp_path / "dbt.duckdb") as connector:
        load(connector, "tracks", E.COLUMNS, E.ROWS)
    api.export_dbt(tmp_path / "journeys", "duckdb")
    root = tmp_path / "analytics"
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text(
        'name: analytics\nversion: "1.0.0"\nconfig-version: 2\nprofile: journeyctl\n'
        "vars:\n  journeyctl_journeys:\n    journeyctl_source_schema: main\n")
    (root / "packages.yml").write_text("packages:\n  - local: ../journeys\n")
    (root / "models" / "long_sessions.sql").write_text(
        "select session_id from {{ ref('dbt_track_facts') }} group by session_id having count(*) > 2\n")
    dbt(root, "deps")
    out = dbt(root, "build")
    assert f"PASS={len(STAGES) + 1 + 11} WARN=0 ERROR=0" in out
    with duckdb_connector(tmp_path / "dbt.duckdb") as connector:
        assert read_tables(connector, params()) == normalised(E.expected_tables())
        long_sessions = connector.query("select * from journey.long_sessions order by 1")
    assert long_sessions == [("1 - user-1",), ("2 - user-2",)]


def standin_profile(w: Warehouse) -> dict:
    """A dbt output on the warehouse's stand-in, its schema the one journeyctl would build in."""
    o = w.options
    if w.engine == "snowflake":
        return {"type": "snowflake", "account": o["account"], "user": o["user"], "password": o["password"],
                "host": o["host"], "port": o["port"], "protocol": o["protocol"], "database": o["database"],
                "schema": w.schema, "threads": 1}
    if w.engine == "bigquery":  # the emulator takes any token
        return {"type": "bigquery", "method": "oauth-secrets", "token": "anonymous", "project": o["project"],
                "dataset": w.schema, "api_endpoint": o["api_endpoint"], "threads": 1}
    return {"type": "redshift", "host": o["host"], "port": o["port"], "user": o["user"],
            "password": o["password"], "dbname": o["database"], "schema": w.schema, "threads": 1,
            "sslmode": "disable"}


@pytest.fixture(params=DBT_ADAPTERS)
def adapter_warehouse(request, tmp_path) -> Warehouse:
    """A stand-in of each warehouse whose dbt adapter .ci/dbt.sh installs."""
    return make_warehouse(request.param, request.getfixturevalue(f"{request.param}_standin"), tmp_path)


def test_warehouse_exports_parse_and_build_with_their_adapters(adapter_warehouse, dbt, tmp_path):
    warehouse = adapter_warehouse
    warehouse.load()
    outputs = {"standin": standin_profile(warehouse)}
    (tmp_path / "profiles.yml").write_text(json.dumps({"journeyctl": {"target": "standin", "outputs": outputs}}))
    project = tmp_path / "export"
    api.export_dbt(project, warehouse.engine, source=warehouse.source)
    dbt(project, "parse")
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    assert set(models) == STAGES and len(tests) == 11
    assert models["dbt_tracks_flow"]["depends_on"]["nodes"] == ["model.journeyctl_journeys.dbt_journey_events"]
    assert models["dbt_tracks_flow"]["config"]["materialized"] == "view"

    # Snowflake's source is TRACKS in the login schema, which is not the output schema.
    source_schema = {"journeyctl_source_schema": "PUBLIC"} if warehouse.engine == "snowflake" else {}
    out = dbt(project, "build", "--vars", json.dumps(source_schema))
    assert f"PASS={len(STAGES) + 11} WARN=0 ERROR=0" in out
    with warehouse.connector() as connector:
        assert read_tables(connector, warehouse.params()) == normalised(E.expected_tables())


def test_models_carry_their_parameters_and_need_no_journeyctl(tmp_path):
    api.export_dbt(tmp_path, "snowflake", config=None, idle_timeout_minutes=45)
    flow = (tmp_path / "models" / "dbt_journey_events.sql").read_text()
    assert "idle_timeout_minutes=45" in flow.splitlines()[0]
    assert "{{ config(materialized='table') }}" in flow
    assert "{{ ref('dbt_aliases_mapping') }}" in flow and "{{ source('rudderstack', 'tracks') }}" in flow
    assert "__journeyctl" not in "".join(p.read_text() for p in tmp_path.rglob("*.sql"))
    assert "journeyctl_idle_timeout_minutes: 45" in (tmp_path / "dbt_project.yml").read_text()
    assert 'identifier: "TRACKS"' in (tmp_path / "models" / "sources.yml").read_text()


def test_cli_dbt_format_needs_an_output_dir_and_no_select(tmp_path):
    config = tmp_path / "journeyctl.toml"
    config.write_text("")
    assert journeyctl(config, "render", "-d", "duckdb", "--format", "dbt").exit_code == 2
    result = journeyctl(config, "render", "-d", "duckdb", "--format", "dbt", "--output-dir", str(tmp_path / "p"))
    assert result.exit_code == 0 and result.stdout == ""
    assert (tmp_path / "p" / "models" / "dbt_tracks_flow.sql").is_file()
