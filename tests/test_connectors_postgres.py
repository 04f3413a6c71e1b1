"""What is special about PostgreSQL, on a real PostgreSQL 15 whose sessions run in America/New_York."""

from __future__ import annotations

import os
import secrets
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest
import sqlglot

from journeyctl import stages
from journeyctl.config import Target
from journeyctl.connectors import connect
from journeyctl.dialects import get_dialect
from journeyctl.errors import ConnectionFailed, RenderError
from journeyctl.names import TableName
from journeyctl.render import generate, render_plan
from tests import edge_events as E
from tests.helpers import duckdb_connector, load, normalise, params, read_tables, run_pipeline
from tests.standins.postgres import pg_bindir
from tests.test_connectors_equivalence import DEFAULT, assert_same_rows, built_tables, duckdb_rows
from tests.warehouses import journeyctl, make_warehouse

UTC = timezone.utc
DST_COLUMNS = [("id", "VARCHAR"), ("anonymous_id", "VARCHAR"), ("user_id", "VARCHAR"),
               ("timestamp", "TIMESTAMP"), ("event", "VARCHAR")]
SPRING = datetime(2026, 3, 8, 6, 50)  # 01:50 EST; 20 minutes later it is 03:10 EDT (wall clock: +80)
AUTUMN = datetime(2026, 11, 1, 5, 50)  # 01:50 EDT; 20 minutes later it is 01:10 EST (wall clock: -40)


def offline(**options):
    return connect(Target("pg", "postgres", {"host": "db.example.com"} | options, Path("/cfg")))


def test_connect_args_defaults():
    args = offline(user="analyst", password="pw", database="analytics").connect_args()
    assert (args["host"], args["dbname"], args["user"]) == ("db.example.com", "analytics", "analyst")
    assert args["connect_timeout"] == 30 and args["application_name"] == "journeyctl"
    assert "port" not in args and "sslmode" not in args  # libpq's defaults (PGPORT or 5432; prefer)


def test_describe_names_host_port_database_user_only():
    text = offline(user="analyst", password="Pw-Secret-9", database="analytics", port=6432).describe()
    assert text == "postgres target 'pg' (db.example.com:6432/analytics, user analyst)"
    assert connect(Target("pg", "postgres", {}, Path("/cfg"))).describe() == \
        "postgres target 'pg' (libpq's default host)"


def test_connection_is_in_autocommit_mode(postgres):
    with postgres.connector() as c:
        c.execute("CREATE TABLE committed_by_itself (x INT)")
        with postgres.connector() as other:  # another session sees it at once
            assert other.columns(TableName.parse("committed_by_itself")) == {"x": "INTEGER"}
        c.execute("DROP TABLE committed_by_itself")


def test_execution_error_is_the_server_message_with_its_line(postgres):
    sql = "SELECT\n  1 AS one,\n  no_such_column\nFROM pg_class"
    with postgres.connector() as c:
        with pytest.raises(psycopg.Error) as raised:
            c.execute(sql)
        error = c.execution_error(raised.value, sql, "dbt_track_facts")
        assert c.query("SELECT 1") == [(1,)]  # autocommit: the session is usable again
    assert error.line == 3
    assert str(error).endswith('column "no_such_column" does not exist (42703)')


def test_wrong_password_fails_without_showing_it(postgres):
    with pytest.raises(ConnectionFailed) as raised:
        postgres.connector(password="Wrong-Pw-77").open()
    message = f"{raised.value} {raised.value.hint}"
    assert "password authentication failed" in message and "Wrong-Pw-77" not in message
    assert postgres.options["password"] not in message and "\n" not in str(raised.value)


def dst_rows(aware: bool) -> list[tuple]:
    """Two visitors, each with two events 20 minutes apart across a US DST change (UTC instants)."""
    at = (lambda t: t.replace(tzinfo=UTC)) if aware else (lambda t: t)
    return [("s1", "anon-s", None, at(SPRING), "Page Viewed"),
            ("s2", "anon-s", None, at(SPRING + timedelta(minutes=20)), "Signed Up"),
            ("f1", "anon-f", None, at(AUTUMN), "Page Viewed"),
            ("f2", "anon-f", None, at(AUTUMN + timedelta(minutes=20)), "Signed Up")]


@pytest.mark.parametrize("kind", ["TIMESTAMP", "TIMESTAMPTZ"])
def test_twenty_minutes_across_dst_are_twenty_in_new_york(postgres, monkeypatch, kind):
    """Naive (UTC) and zoned timestamps alike; the session zone America/New_York (the server's
    default and PGTZ both) would make wall-clock arithmetic read 80 and -40."""
    monkeypatch.setenv("PGTZ", "America/New_York")
    columns = [(n, kind if n == "timestamp" else k) for n, k in DST_COLUMNS]
    postgres.load(rows=dst_rows(aware=kind == "TIMESTAMPTZ"), columns=columns)
    config = postgres.config()
    result = journeyctl(config, "run", "--target", "postgres")
    assert result.exit_code == 0, result.stderr
    with postgres.connector() as c:
        assert c.query("SHOW TIME ZONE") == [("America/New_York",)]
        idle = dict(c.query(f"SELECT event_id, idle_time_minutes FROM {postgres.schema}.dbt_mapped_tracks"))
        sessions = c.query(f"SELECT session_id, session_start_at FROM {postgres.schema}.dbt_session_tracks")
        assert c.columns(TableName.parse(f"{postgres.schema}.dbt_track_facts"))["timestamp"] == \
            c.columns(TableName.parse(postgres.source))["timestamp"]  # the source's type, kept
    assert idle == {"s1": None, "s2": 20.0, "f1": None, "f2": 20.0}
    starts = {sid: normalise(t) for sid, t in sessions}
    assert starts == {"1 - anon-s": SPRING, "1 - anon-f": AUTUMN}
    result = journeyctl(config, "test", "--target", "postgres")
    assert result.exit_code == 0, result.stdout + result.stderr


def test_rendered_script_runs_twice_in_psql_in_new_york(postgres):
    """`journeyctl render -d pg | psql`: the script alone, in a session set to America/New_York,
    builds DuckDB's rows, and replaces its own tables when run again."""
    postgres.load()
    script = journeyctl(postgres.config(), "render", "--dialect", "pg").stdout
    psql = [str(pg_bindir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", postgres.options["host"],
            "-p", str(postgres.options["port"]), "-U", postgres.options["user"], "-d", postgres.options["database"]]
    env = {**os.environ, "PGPASSWORD": postgres.options["password"], "PGTZ": "UTC"}
    for _ in range(2):
        proc = subprocess.run(psql, input="SET TIME ZONE 'America/New_York';\n" + script, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        assert "ERROR" not in proc.stderr
    assert_same_rows(built_tables(postgres), duckdb_rows(*DEFAULT))


def test_text_ties_break_in_byte_order_under_an_icu_collation(postgres_standin, tmp_path):
    """A database whose default collation is ICU en-US ('_z' < 'a' < 'A1' < 'B'): events with equal
    timestamps are still ordered by id as bytes, as on every other engine."""
    database = f"icu_{secrets.token_hex(4)}"
    with psycopg.connect(**postgres_standin.connect_kwargs(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {database} TEMPLATE template0 LOCALE_PROVIDER icu "
                      "ICU_LOCALE 'en-US' LOCALE 'C'")
    w = make_warehouse("postgres", postgres_standin, tmp_path / "pg")
    w.options["database"] = database
    w.base_dir.mkdir()
    t = datetime(2026, 5, 1, 12)
    rows = [(i, "dev-1", user, t, None, f"event {i}", None)
            for i, user in (("B1", "U-b"), ("a1", "u-a"), ("A0", None), ("_z", "u_z"), ("a-2", None))]
    rows += [(i, "dev-2", None, t + timedelta(minutes=m), None, e, None)
             for i, m, e in (("x", 0, "Zoom"), ("Y", 0, "apple"), ("y-", 0, "Apple"))]
    w.load(rows=rows)
    with duckdb_connector(tmp_path / "ref.duckdb") as ref:
        load(ref, "tracks", E.COLUMNS, rows)
        run_pipeline(ref, params(schema=w.schema))
        want = read_tables(ref, params(schema=w.schema))
    result = journeyctl(w.config(), "run", "--target", "postgres", "--test")  # data tests order ids too
    assert result.exit_code == 0, result.stdout + result.stderr
    assert_same_rows(built_tables(w), want)


@pytest.mark.parametrize("template,refusal", [
    ("SELECT LAG(event) IGNORE NULLS OVER (ORDER BY timestamp) AS e FROM {{ source() }}", "IGNORE NULLS"),
    ("SELECT TIMESTAMP_DIFF(timestamp, received_at, MINUTE) AS m FROM {{ source() }}", "MINUTE"),
])
def test_what_postgres_cannot_express_fails_at_render_time(tmp_path, monkeypatch, template, refusal):
    """sqlglot would drop IGNORE NULLS with a log line; a minute diff has no exact rendering."""
    (tmp_path / "stage.sql").write_text(template)
    monkeypatch.setattr(stages, "template_dir", lambda: tmp_path)
    stages._environment.cache_clear()
    try:
        with pytest.raises(RenderError, match=refusal):
            render_plan(params(), get_dialect("pg"))
    finally:
        stages._environment.cache_clear()


def test_neutral_division_of_integers_is_not_truncated(postgres):
    """PostgreSQL's integer `/` truncates; sqlglot renders the neutral `/` with a cast to double."""
    with postgres.connector() as c:
        sql = generate(sqlglot.parse_one("SELECT 7 / 2 AS half"), c.dialect, "test")
        assert c.query(sql) == [(3.5,)]
