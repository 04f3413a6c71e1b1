"""What is special about Snowflake, against the fakesnow stand-in (and connect args offline)."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeyctl.config import Target
from journeyctl.connectors import connect
from journeyctl.errors import ConnectionFailed
from journeyctl.layout import Publication
from journeyctl.names import SchemaName, TableName
from tests.warehouses import encrypted_key


def offline(**options):
    return connect(Target("sf", "snowflake", {"account": "myorg-acct"} | options, Path("/cfg")))


def test_timeout_bounds_the_login_only():
    """network_timeout would also cancel any query running longer than it."""
    args = offline(timeout=7).connect_args()
    assert args["login_timeout"] == 7 and "network_timeout" not in args
    assert offline().connect_args()["login_timeout"] == 30


def test_queries_are_tagged_and_run_in_utc():
    args = offline().connect_args()
    assert args["application"] == "journeyctl"
    assert args["session_parameters"] == {"QUERY_TAG": "journeyctl", "TIMEZONE": "UTC"}


def test_private_key_path_is_relative_to_the_config_file():
    args = offline(private_key_path="keys/rsa.p8", private_key_passphrase="pp").connect_args()
    assert args["private_key_file"] == "/cfg/keys/rsa.p8" and args["private_key_file_pwd"] == "pp"
    assert "private_key_passphrase" not in args


def test_password_and_passphrase_are_secrets():
    assert sorted(offline(password="pw1", private_key_passphrase="pp1").secrets) == ["pp1", "pw1"]


def test_default_source_is_upper_case():
    assert offline().dialect.default_source == "TRACKS"


def test_columns_are_found_by_upper_case_name_and_keyed_lower_case(snowflake):
    snowflake.load()
    with snowflake.connector() as c:
        upper = c.columns(TableName.parse("TRACKS"))
        assert upper == c.columns(TableName.parse("tracks")) == c.columns(TableName.parse("public.Tracks"))
        assert upper["timestamp"] == "TIMESTAMP_NTZ" and set(upper) >= {"id", "anonymous_id", "event"}
        assert c.columns(TableName.parse("NO_SUCH_TABLE")) is None
        assert c.columns(TableName.parse("NO_SUCH_SCHEMA.TRACKS")) is None


def test_quoted_lower_case_columns_are_not_the_ones_the_sql_reads(snowflake):
    """Rendered SQL reads "TIMESTAMP"; a column created as "timestamp" is another column."""
    with snowflake.connector() as c:
        c.execute('CREATE TABLE "MIXED" ("id" VARCHAR, "timestamp" TIMESTAMP_NTZ, "EVENT" VARCHAR)')
        assert c.columns(TableName.parse("MIXED")) == {"event": "TEXT"}


def test_create_schema_does_not_move_the_session(snowflake):
    """Snowflake makes a new schema current; unqualified TRACKS must still mean PUBLIC.TRACKS."""
    with snowflake.connector() as c:
        c.execute('CREATE SCHEMA IF NOT EXISTS "JOURNEY"')
        assert c.query("SELECT CURRENT_SCHEMA()") == [("PUBLIC",)]


def test_first_publish_renames_to_a_qualified_name_later_ones_swap(snowflake):
    staging, final = TableName.parse("journey.t__jc_0000abcd"), TableName.parse("journey.t")
    statements = []
    with snowflake.connector() as c:
        c.execute('CREATE SCHEMA IF NOT EXISTS "JOURNEY"')
        for run in (1, 2):
            c.execute(f'CREATE TABLE "JOURNEY"."T__JC_0000ABCD" AS SELECT {run} AS "RUN"')
            c.run_publish(c.publish_statements(Publication([(staging, final)], [])),
                          lambda sql: (statements.append(" ".join(sql.split())), c.execute(sql)))
            assert c.query('SELECT "RUN" FROM "JOURNEY"."T"') == [(run,)]
        assert c.columns(staging) is None
    assert statements == [
        'ALTER TABLE "JOURNEY"."T__JC_0000ABCD" RENAME TO "JOURNEY"."T"',
        'DROP TABLE IF EXISTS "JOURNEY"."T__JC_0000ABCD"',
        'ALTER TABLE "JOURNEY"."T" SWAP WITH "JOURNEY"."T__JC_0000ABCD"',
        'DROP TABLE IF EXISTS "JOURNEY"."T__JC_0000ABCD"',
    ]


def test_wrong_key_passphrase_fails_without_showing_it(snowflake, tmp_path):
    key = encrypted_key(tmp_path / "rsa.p8", b"Right-Passphrase-1")
    connector = snowflake.connector(password=None, private_key_path=str(key),
                                    private_key_passphrase="Wrong-Passphrase-2")
    with pytest.raises(ConnectionFailed) as raised:
        connector.open()
    message = f"{raised.value} {raised.value.hint}"
    assert "decrypt" in message and "private_key_passphrase" in message
    assert "Wrong-Passphrase-2" not in message and "Right-Passphrase-1" not in message


def test_key_pair_login(snowflake, tmp_path):
    key = encrypted_key(tmp_path / "rsa.p8", b"Right-Passphrase-1")
    with snowflake.connector(password=None, private_key_path="rsa.p8",
                             private_key_passphrase="Right-Passphrase-1") as c:
        assert c.query("SELECT 1") == [(1,)]
    assert key.exists()


def test_tables_in_schema_by_stored_name(snowflake):
    with snowflake.connector() as c:
        c.execute('CREATE SCHEMA IF NOT EXISTS "JOURNEY"')
        c.execute('CREATE TABLE "JOURNEY"."T1" ("X" INT)')
        assert [t.name for t in c.tables_in_schema(SchemaName.parse("journey"))] == ["T1"]
        assert c.tables_in_schema(SchemaName.parse("no_such_schema")) == []
