"""What is special about Redshift, against PostgreSQL behind the Redshift proxy (and offline)."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeyctl.config import Target
from journeyctl.connectors import connect
from journeyctl.errors import ConnectionFailed, ExecutionError
from journeyctl.layout import Publication
from journeyctl.names import TableName
from journeyctl.runner import _execute


def offline(**options):
    return connect(Target("rs", "redshift", {"host": "cl.abc.us-west-2.redshift.amazonaws.com"} | options,
                          Path("/cfg")))


def test_connect_args_defaults():
    args = offline(user="awsuser", password="pw", database="dev").connect_args()
    assert args["port"] == 5439 and args["timeout"] == 30 and args["application_name"] == "journeyctl"
    assert args["user"] == "awsuser" and "db_user" not in args


def test_iam_asks_credentials_for_the_user_as_db_user():
    args = offline(iam=True, cluster_identifier="cl", region="us-west-2", profile="prod",
                   user="analyst").connect_args()
    assert args["iam"] is True and args["db_user"] == "analyst" and "user" not in args
    assert (args["cluster_identifier"], args["region"], args["profile"]) == ("cl", "us-west-2", "prod")


def test_describe_names_host_port_database_user_only():
    text = offline(user="awsuser", password="Pw-Secret-9", database="dev").describe()
    assert text == ("redshift target 'rs' (cl.abc.us-west-2.redshift.amazonaws.com:5439/dev, user awsuser)")


def test_connection_is_in_autocommit_mode(redshift):
    with redshift.connector() as c:
        assert c.connection.autocommit is True
        c.execute("CREATE TABLE committed_by_itself (x INT)")
        with redshift.connector() as other:  # another session sees it at once
            assert other.columns(TableName.parse("committed_by_itself")) == {"x": "INTEGER"}
        c.execute("DROP TABLE committed_by_itself")


def test_a_failed_publish_rolls_back_every_table(redshift):
    """BEGIN … COMMIT is one transaction: the second rename fails, the first is undone."""
    schema = redshift.schema
    pairs = [(TableName.parse(f"{schema}.a__jc_0000abcd"), TableName.parse(f"{schema}.a")),
             (TableName.parse(f"{schema}.b__jc_0000abcd"), TableName.parse(f"{schema}.b"))]
    with redshift.connector() as c:
        c.execute(f"CREATE SCHEMA {schema}")
        for sql in (f"CREATE TABLE {schema}.a AS SELECT 'old' AS v", f"CREATE TABLE {schema}.b AS SELECT 'old' AS v",
                    f"CREATE TABLE {schema}.a__jc_0000abcd AS SELECT 'new' AS v"):  # b's staging is missing
            c.execute(sql)
        with pytest.raises(ExecutionError, match="does not exist"):
            c.run_publish(c.publish_statements(Publication(pairs, [])), lambda sql: _execute(c, sql, "publish"))
        assert c.query(f"SELECT v FROM {schema}.a") == [("old",)]
        assert c.query(f"SELECT v FROM {schema}.a__jc_0000abcd") == [("new",)]
        assert c.query("SELECT 1") == [(1,)]  # the session is usable again


def test_timeout_does_not_cut_a_long_statement(redshift):
    with redshift.connector(timeout=1) as c:
        c.execute("SELECT pg_sleep(1.5)")


def test_execution_error_is_the_server_message_with_its_line(redshift):
    sql = "SELECT\n  1 AS one,\n  no_such_column\nFROM pg_class"
    with redshift.connector() as c:
        with pytest.raises(Exception) as raised:
            c.execute(sql)
        error = c.execution_error(raised.value, sql, "dbt_track_facts")
    assert error.line == 3
    assert str(error).endswith('column "no_such_column" does not exist (42703)')
    assert "{'S'" not in str(error)


def test_wrong_password_fails_without_showing_it(redshift):
    with pytest.raises(ConnectionFailed) as raised:
        redshift.connector(password="Wrong-Pw-77").open()
    message = f"{raised.value} {raised.value.hint}"
    assert "password authentication failed" in message and "Wrong-Pw-77" not in message
    assert redshift.options["password"] not in message
