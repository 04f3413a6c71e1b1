"""Each warehouse connector against its stand-in: the same events give DuckDB's rows.

The hand-written edge-case events (tests/edge_events.py) are loaded through the
connector's own bulk path, `journeyctl run --target <engine>` builds the five tables
through the real CLI, and every table is read back and compared with the DuckDB run's
rows (timestamps as naive UTC, floats to 1e-9).
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import pytest
from sqlglot import exp

from journeyctl.config import Target
from journeyctl.connectors import connect
from journeyctl.errors import ConnectionFailed, ExecutionError
from journeyctl.names import SchemaName, TableName
from tests import edge_events as E
from tests.helpers import PUBLISHED, normalised, params, read_tables
from tests.warehouses import journeyctl

DEFAULT = ()
LONGER_SESSIONS = ("--idle-timeout", "60", "--journey-length", "3")


def scratch_dir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, True)
    return path


@functools.cache
def duckdb_rows(*flags: str) -> dict[str, set[tuple]]:
    """The five tables as the DuckDB target builds them from the edge events, via the CLI."""
    base = scratch_dir("journeyctl-duckdb-ref-")
    target = Target("duckdb", "duckdb", {"path": str(base / "ref.duckdb")}, base)
    with connect(target) as c:
        c.create_table(TableName.parse("tracks"), E.COLUMNS)
        c.insert_rows(TableName.parse("tracks"), E.COLUMNS, E.ROWS)
    config = base / "journeyctl.toml"
    config.write_text('[targets.duckdb]\ntype = "duckdb"\npath = "ref.duckdb"\n')
    result = journeyctl(config, "run", "--target", "duckdb", *flags)
    assert result.exit_code == 0, result.stderr
    with connect(target) as c:
        return read_tables(c, params())


@functools.cache
def duckdb_sample_rows(events: int, seed: int) -> dict[str, set[tuple]]:
    """The five tables DuckDB builds from `journeyctl sample --events N --seed S`."""
    base = scratch_dir("journeyctl-duckdb-sample-")
    config = base / "journeyctl.toml"
    config.write_text('[targets.duckdb]\ntype = "duckdb"\npath = "ref.duckdb"\n')
    for args in (("sample", "--events", str(events), "--seed", str(seed)), ("run",)):
        result = journeyctl(config, *args, "--target", "duckdb")
        assert result.exit_code == 0, result.stderr
    with connect(Target("duckdb", "duckdb", {"path": "ref.duckdb"}, base)) as c:
        return read_tables(c, params())


def built_tables(warehouse) -> dict[str, set[tuple]]:
    with warehouse.connector() as c:
        return read_tables(c, params(source=warehouse.source, schema=warehouse.schema))


def assert_same_rows(got: dict, want: dict) -> None:
    for table in PUBLISHED:
        extra, missing = got[table] - want[table], want[table] - got[table]
        assert not extra and not missing, f"{table}: extra {sorted(extra, key=str)}, missing {sorted(missing, key=str)}"


def test_duckdb_reference_is_the_hand_computed_contract():
    assert duckdb_rows(*DEFAULT) == normalised(E.expected_tables())


def test_run_builds_the_same_rows_as_duckdb(warehouse, layout):
    warehouse.in_layout(layout).load()
    result = journeyctl(warehouse.config(), "run", "--target", warehouse.engine)
    assert result.exit_code == 0, result.stderr
    assert_same_rows(built_tables(warehouse), duckdb_rows(*DEFAULT))


def test_sample_events_give_the_same_rows_as_duckdb(warehouse):
    """Synthetic events (bursts, re-deliveries, shared devices, gaps at the timeout) via `sample`."""
    config = warehouse.config()
    if "." in warehouse.source:
        warehouse.load(rows=[])  # creates the source's schema; sample replaces the table
    for args in (("sample", "--events", "600", "--seed", "7"), ("run",)):
        result = journeyctl(config, *args, "--target", warehouse.engine)
        assert result.exit_code == 0, result.stderr
    assert_same_rows(built_tables(warehouse), duckdb_sample_rows(600, 7))


def test_run_leaves_only_the_published_tables(warehouse, layout):
    warehouse.in_layout(layout).load()
    assert journeyctl(warehouse.config(), "run", "--target", warehouse.engine).exit_code == 0
    with warehouse.connector() as c:
        left = {t.name.lower() for t in c.tables_in_schema(SchemaName.parse(warehouse.schema))}
    assert left == warehouse.relations


def test_second_run_replaces_the_published_tables(warehouse, layout):
    """Snowflake: SWAP WITH; BigQuery: CREATE OR REPLACE … AS SELECT; Redshift: DROP + RENAME in a
    transaction; ClickHouse: EXCHANGE TABLES; Spark: DROP + RENAME per table. Layout views: the views
    follow (created again where they bind to the table: Redshift, PostgreSQL), with the journey
    length's columns."""
    warehouse.in_layout(layout).load()
    config = warehouse.config()
    assert journeyctl(config, "run", "--target", warehouse.engine).exit_code == 0
    result = journeyctl(config, "run", "--target", warehouse.engine, *LONGER_SESSIONS)
    assert result.exit_code == 0, result.stderr
    assert_same_rows(built_tables(warehouse), duckdb_rows(*LONGER_SESSIONS))
    assert built_tables(warehouse)["dbt_session_tracks"] == normalised({"t": E.SESSION_TRACKS_60})["t"]


def test_run_summary_counts_rows_left_out(warehouse):
    warehouse.load()
    result = journeyctl(warehouse.config(), "run", "--target", warehouse.engine, "--format", "json")
    assert result.exit_code == 0, result.stderr
    summary = result.stdout[result.stdout.index("{"):]
    assert '"unusable_rows": 3' in summary and '"duplicate_rows": 2' in summary


def test_execution_error_keeps_the_warehouse_message(warehouse):
    warehouse.load()
    with warehouse.connector() as c:
        sql = c.render(exp.select(exp.column("no_such_column"))
                       .from_(TableName.parse(warehouse.source).to_table()))
        with pytest.raises(Exception) as raised:
            c.execute(sql)
        error = c.execution_error(raised.value, sql, "dbt_mapped_tracks")
    assert isinstance(error, ExecutionError)
    assert "no_such_column" in str(error).lower()
    assert f"on {warehouse.engine} target" in str(error) and "dbt_mapped_tracks" in str(error)


def test_describe_names_the_place_but_no_secret(warehouse):
    text = warehouse.connector().describe()
    assert warehouse.engine in text
    place = {"snowflake": "account", "bigquery": "project", "redshift": "host",
             "postgres": "host", "clickhouse": "host",
             "spark": "remote"}[warehouse.engine]
    assert str(warehouse.options[place]) in text
    for secret in ("password",):
        if secret in warehouse.options:
            assert str(warehouse.options[secret]) not in text


def test_unreachable_target_fails_with_connection_failed(warehouse):
    unreachable = {"snowflake": {"port": 9, "timeout": 3},
                   "bigquery": {"api_endpoint": "http://127.0.0.1:9", "timeout": 3},
                   "redshift": {"port": 9, "timeout": 3}, "postgres": {"port": 9, "timeout": 3},
                   "clickhouse": {"port": 9, "timeout": 3},
                   "spark": {"remote": "sc://127.0.0.1:9", "timeout": 3}}[warehouse.engine]
    with pytest.raises(ConnectionFailed) as raised:
        warehouse.connector(**unreachable).open()
    assert warehouse.engine in str(raised.value) and raised.value.hint
    if "password" in warehouse.options:
        assert warehouse.options["password"] not in str(raised.value) + raised.value.hint


def test_dry_run_prints_the_publish_without_connecting(warehouse):
    unreachable = {"snowflake": {"port": 9}, "bigquery": {"api_endpoint": "http://127.0.0.1:9"},
                   "redshift": {"port": 9}, "postgres": {"port": 9},
                   "clickhouse": {"port": 9}, "spark": {"remote": "sc://127.0.0.1:9"}}[warehouse.engine]
    result = journeyctl(warehouse.config(**unreachable), "run", "--target", warehouse.engine, "--dry-run")
    assert result.exit_code == 0, result.stderr
    publish = {"snowflake": "SWAP WITH", "bigquery": "CREATE OR REPLACE TABLE", "redshift": "RENAME TO",
               "postgres": "RENAME TO", "clickhouse": "EXCHANGE TABLES", "spark": "RENAME TO"}
    assert "-- publish\n" in result.stdout and publish[warehouse.engine] in result.stdout
