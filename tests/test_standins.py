"""Smoke tests: each warehouse's real client talks to its offline stand-in.

The same events go into every engine and the same answer must come back, including the NULL that
LAG() yields on a user's first event and an exact microsecond difference (1.499999 s).
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.standins import StandinNotInstalled, import_client, start_or_skip
from tests.standins.redshift_proxy import rewrite_sql

T0 = dt.datetime(2024, 1, 1, 0, 0, 0, 1)
T1 = dt.datetime(2024, 1, 1, 0, 0, 1, 500000)
T2 = dt.datetime(2024, 1, 2)
# (user, ts, previous ts, microseconds since previous)
EXPECTED = [("a", T0, None, None), ("a", T1, T0, 1_499_999), ("b", T2, None, None)]
VALUES = "('a', '2024-01-01 00:00:00.000001'), ('a', '2024-01-01 00:00:01.5'), ('b', '2024-01-02 00:00:00')"


def naive(rows):
    """Drop tzinfo (BigQuery TIMESTAMPs come back UTC-aware) so one EXPECTED fits all engines."""
    strip = lambda v: v.replace(tzinfo=None) if isinstance(v, dt.datetime) else v  # noqa: E731
    return [tuple(strip(v) for v in row) for row in rows]


def test_snowflake_connector_roundtrip(snowflake_standin):
    sf = import_client("snowflake.connector")
    with sf.connect(**snowflake_standin.connect_kwargs()) as con:
        cur = con.cursor()
        cur.execute('CREATE OR REPLACE TABLE "EVENTS" ("USER_ID" VARCHAR, "TIMESTAMP" TIMESTAMP_NTZ)')
        cur.execute(f'INSERT INTO "EVENTS" VALUES {VALUES}')
        cur.execute(
            'SELECT "USER_ID", "TIMESTAMP", prev, DATEDIFF(microsecond, prev, "TIMESTAMP") FROM ('
            ' SELECT *, LAG("TIMESTAMP") OVER (PARTITION BY "USER_ID" ORDER BY "TIMESTAMP") AS prev FROM "EVENTS")'
            " ORDER BY 1, 2"
        )
        assert naive(cur.fetchall()) == EXPECTED
        # SWAP WITH is emulated by tests/standins/_fakesnow_serve.py (fakesnow cannot parse it)
        cur.execute('CREATE OR REPLACE TABLE "EVENTS_NEW" AS SELECT 1 AS "N"')
        cur.execute('ALTER TABLE "EVENTS_NEW" SWAP WITH "EVENTS"')
        cur.execute('SELECT "N" FROM "EVENTS"')
        assert cur.fetchall() == [(1,)]


def test_bigquery_client_roundtrip(bigquery_standin):
    import_client("google.cloud.bigquery")
    client = bigquery_standin.client()
    client.query("CREATE SCHEMA IF NOT EXISTS smoke").result()
    client.query("CREATE OR REPLACE TABLE smoke.events (user_id STRING, `timestamp` TIMESTAMP)").result()
    client.query(f"INSERT INTO smoke.events VALUES {VALUES}").result()
    rows = client.query(
        "SELECT user_id, `timestamp`, prev, TIMESTAMP_DIFF(`timestamp`, prev, MICROSECOND) FROM ("
        " SELECT *, LAG(`timestamp`) OVER (PARTITION BY user_id ORDER BY `timestamp`) AS prev FROM smoke.events)"
        " ORDER BY 1, 2"
    ).result()
    assert naive(tuple(r.values()) for r in rows) == EXPECTED


def test_redshift_connector_roundtrip(redshift_standin):
    rs = import_client("redshift_connector")
    con = rs.connect(**redshift_standin.connect_kwargs())
    try:
        cur = con.cursor()
        cur.execute("DROP TABLE IF EXISTS events")
        cur.execute("CREATE TABLE events (user_id VARCHAR(MAX), ts TIMESTAMP)")
        cur.execute(f"INSERT INTO events VALUES {VALUES}")
        cur.execute(
            "SELECT user_id, ts, prev, DATEDIFF(MICROSECOND, prev, ts) FROM ("
            " SELECT *, LAG(ts) OVER (PARTITION BY user_id ORDER BY ts) AS prev FROM events) AS e ORDER BY 1, 2"
        )
        assert naive(cur.fetchall()) == EXPECTED
        con.commit()
    finally:
        con.close()


def test_redshift_statements_journeyctl_runs(redshift_standin):
    """One statement per execute, as journeyctl sends them: CTAS, swap by rename in a transaction."""
    rs = import_client("redshift_connector")
    con = rs.connect(**redshift_standin.connect_kwargs())
    try:
        cur = con.cursor()
        for sql in [
            "DROP TABLE IF EXISTS j_new",
            "DROP TABLE IF EXISTS j_live",
            "CREATE TABLE j_live AS SELECT 1 AS v",
            "CREATE TABLE j_new AS SELECT CAST('x' AS VARCHAR(MAX)) AS s, GETDATE() AS built_at",
            "BEGIN",
            "DROP TABLE IF EXISTS j_live",
            "ALTER TABLE j_new RENAME TO j_live",
            "COMMIT",
        ]:
            cur.execute(sql)
        cur.execute("SELECT s, built_at FROM j_live")
        (s, built_at), = cur.fetchall()
        assert s == "x" and built_at.microsecond == 0
        with pytest.raises(rs.ProgrammingError):  # not Redshift SQL: the stand-in must refuse it too
            cur.execute("CREATE OR REPLACE TABLE j_live AS SELECT 1 AS v")
        con.rollback()
    finally:
        con.close()


def test_redshift_datediff_shim_follows_sqlglot(redshift_standin):
    """The shim takes exactly what sqlglot's redshift dialect renders, with Redshift's boundary counting."""
    sqlglot = import_client("sqlglot")
    rs = import_client("redshift_connector")
    a, b = "CAST('2024-01-01 00:00:59.9' AS TIMESTAMP)", "CAST('2024-01-01 00:01:00.1' AS TIMESTAMP)"
    units = ["microsecond", "millisecond", "second", "minute", "hour", "day"]
    sql = "SELECT " + ", ".join(f"DATEDIFF({u}, {a}, {b})" for u in units)
    (rendered,) = sqlglot.transpile(sql, read="redshift", write="redshift")
    con = rs.connect(**redshift_standin.connect_kwargs())
    try:
        cur = con.cursor()
        cur.execute(rendered)
        assert list(cur.fetchone()) == [200_000, 200, 1, 1, 0, 0]
    finally:
        con.close()


def test_clickhouse_connect_roundtrip(clickhouse_standin):
    """Unpatched clickhouse-connect against the chdb HTTP front: handshake, DDL, Native reads,
    EXCHANGE TABLES, and the server's own error for a wrong password."""
    cc = import_client("clickhouse_connect")
    client = cc.get_client(**clickhouse_standin.connect_kwargs())
    client.command("CREATE OR REPLACE TABLE events (user_id String, timestamp DateTime64(6, 'UTC')) "
                   "ENGINE = MergeTree ORDER BY tuple()")
    client.command(f"INSERT INTO events VALUES {VALUES}")
    rows = client.query("SELECT user_id, timestamp, prev, DATE_DIFF(MICROSECOND, prev, timestamp) FROM ("
                        " SELECT *, lag(toNullable(timestamp)) OVER (PARTITION BY user_id ORDER BY timestamp)"
                        " AS prev FROM events) ORDER BY 1, 2").result_rows
    assert naive(rows) == EXPECTED
    client.command("CREATE OR REPLACE TABLE events_new ENGINE = MergeTree ORDER BY tuple() AS SELECT 1 AS n")
    client.command("EXCHANGE TABLES events_new AND events")
    assert client.query("SELECT n FROM events").result_rows == [(1,)]
    with pytest.raises(cc.driver.exceptions.DatabaseError, match="AUTHENTICATION_FAILED"):
        cc.get_client(**clickhouse_standin.connect_kwargs() | {"password": "wrong"})


def test_rewrite_sql_leaves_literals_identifiers_and_comments_alone():
    sql = "SELECT DATEDIFF(MICROSECOND, a, b), 'GETDATE()', \"VARCHAR(MAX)\" -- DATEDIFF(day, x, y)\nFROM t"
    assert rewrite_sql(sql) == (
        "SELECT standin.datediff('MICROSECOND', a, b), 'GETDATE()', \"VARCHAR(MAX)\" -- DATEDIFF(day, x, y)\nFROM t"
    )
    assert rewrite_sql("CAST(x AS varchar ( max )), getdate()") == (
        "CAST(x AS VARCHAR), date_trunc('second', statement_timestamp())::timestamp"
    )


@pytest.mark.parametrize("ci, outcome", [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_missing_engine_skips_locally_but_fails_in_ci(monkeypatch, ci, outcome):
    monkeypatch.setenv("CI", ci)

    def starter():
        raise StandinNotInstalled("demo engine")

    with pytest.raises(outcome, match="bash .ci/standins.sh"):
        start_or_skip(starter)
