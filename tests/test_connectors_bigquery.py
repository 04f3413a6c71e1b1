"""What is special about BigQuery, against the bqemulator stand-in (and job settings offline)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from journeyctl.config import Target
from journeyctl.connectors import connect
from journeyctl.errors import ConfigError, ConnectionFailed
from journeyctl.layout import Publication
from journeyctl.names import SchemaName, TableName
from tests import edge_events as E
from tests.helpers import normalise, normalised, params, read_tables
from tests.warehouses import journeyctl

FAKE_KEY = "-----BEGIN PRIVATE KEY-----\nTm90LWEtcmVhbC1rZXktYnV0LXNlY3JldA==\n-----END PRIVATE KEY-----\n"


def offline(**options):
    return connect(Target("bq", "bigquery", {"project": "my-proj"} | options, Path("/cfg")))


def test_every_query_job_is_labelled_and_capped():
    config = offline(maximum_bytes_billed=10**9, dataset="journeys").job_config()
    assert config.labels == {"tool": "journeyctl"}
    assert config.maximum_bytes_billed == 10**9
    assert str(config.default_dataset) == "my-proj.journeys"


def test_dataset_is_the_output_schema():
    assert offline(dataset="journeys").output_schema() == "journeys"
    assert offline().output_schema() is None


def test_table_ids_take_project_and_dataset_from_the_target():
    c = offline(dataset="rudder")
    assert c.table_id(TableName.parse("tracks")) == "my-proj.rudder.tracks"
    assert c.table_id(TableName.parse("other.tracks")) == "my-proj.other.tracks"
    assert c.table_id(TableName.parse("p2.other.tracks")) == "p2.other.tracks"
    with pytest.raises(ConfigError, match="needs a dataset"):
        offline().table_id(TableName.parse("tracks"))


def test_publish_replaces_each_table_then_drops_staging():
    statements = offline().publish_statements(Publication([(TableName.parse("j.t__jc_0000abcd"),
                                                            TableName.parse("j.t"))], []))
    assert [" ".join(s.split()) for s in statements] == [
        "CREATE OR REPLACE TABLE `j`.`t` AS SELECT * FROM `j`.`t__jc_0000abcd`",
        "DROP TABLE IF EXISTS `j`.`t__jc_0000abcd`",
    ]


def test_labels_and_byte_cap_reach_the_api(bigquery):
    """The emulator drops both from the job it stores, so look at the request itself."""
    sent = []
    with bigquery.connector(maximum_bytes_billed=123456) as c:
        api_request = c.client._connection.api_request

        def spy(*args, **kwargs):
            sent.append(kwargs.get("data"))
            return api_request(*args, **kwargs)

        c.client._connection.api_request = spy
        c.query("SELECT 1")
    job = next(d for d in sent if d and "configuration" in d)["configuration"]
    assert job["labels"] == {"tool": "journeyctl"}
    assert job["query"]["maximumBytesBilled"] == "123456"


def test_unqualified_source_is_read_from_the_dataset(bigquery, tmp_path):
    bigquery.load(table=f"{bigquery.schema}.tracks")  # the target's `dataset`
    bigquery.source = "tracks"
    result = journeyctl(bigquery.config(), "run", "--target", "bigquery")
    assert result.exit_code == 0, result.stderr
    with bigquery.connector() as c:
        built = read_tables(c, params(schema=bigquery.schema))
    assert built == normalised(E.expected_tables())


def test_columns_and_tables_through_the_api(bigquery):
    bigquery.load()
    with bigquery.connector() as c:
        columns = c.columns(TableName.parse(bigquery.source))
        assert columns["timestamp"] == "TIMESTAMP" and columns["id"] == "STRING"  # not DATETIME
        assert c.columns(TableName.parse(bigquery.source + "_missing")) is None
        assert c.columns(TableName.parse("no_such_dataset.tracks")) is None
        source_dataset = SchemaName.parse(bigquery.source.split(".")[0])
        assert [t.name for t in c.tables_in_schema(source_dataset)] == ["tracks"]
        assert c.tables_in_schema(SchemaName.parse("no_such_dataset")) == []


def test_bulk_load_keeps_microseconds_and_nulls(bigquery):
    bigquery.load()
    with bigquery.connector() as c:
        rows = c.query(f"SELECT id, timestamp, received_at FROM {bigquery.source} WHERE id IN ('a3', 'a4')")
    assert {tuple(normalise(v) for v in row) for row in rows} == {
        ("a3", E.ts("13:00:00.000001"), E.R), ("a4", E.ts("13:00:59"), E.R), ("a4", E.ts("13:00:59"), None)}


def test_bad_service_account_key_fails_without_showing_it(bigquery, tmp_path):
    keyfile = tmp_path / "sa.json"
    keyfile.write_text(json.dumps({
        "type": "service_account", "project_id": "test-proj", "private_key_id": "abc",
        "private_key": FAKE_KEY, "client_email": "jc@test-proj.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": "https://oauth2.googleapis.com/token"}))
    connector = bigquery.connector(anonymous=None, keyfile="sa.json")
    with pytest.raises(ConnectionFailed) as raised:
        connector.open()
    message = f"{raised.value} {raised.value.hint}"
    assert "service-account key" in message and "keyfile" in message
    assert "Tm90LWEtcmVhbC1rZXk" not in message


def test_no_credentials_at_all_says_how_to_get_them(bigquery, tmp_path, monkeypatch):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(ConnectionFailed) as raised:
        bigquery.connector(anonymous=None).open()
    assert "gcloud auth application-default login" in raised.value.hint


def test_execution_error_is_the_job_error_with_its_line_and_job_id(bigquery):
    sql = "SELECT\n  1 AS one,\n  SELEC"
    with bigquery.connector() as c:
        with pytest.raises(Exception) as raised:
            c.execute(sql)
        error = c.execution_error(raised.value, sql, "dbt_track_facts")
    assert "(job " in str(error) and "POST http" not in str(error)
    assert "SELEC" in str(error) and "reason: invalidQuery" not in str(error)  # the job's error, once


def test_execution_error_line_from_bigquerys_position():
    from google.api_core.exceptions import BadRequest

    message = 'Syntax error: Unexpected identifier "SELEC" at [3:3]'
    error = BadRequest(f"{message}\n\nLocation: US\nJob ID: job_123\n",
                       errors=[{"reason": "invalidQuery", "location": "query", "message": message}])
    failure = offline().execution_error(error, "SELECT\n  1,\n  SELEC", "dbt_track_facts")
    assert failure.line == 3
    assert str(failure).endswith(f"{message} (job job_123)")
