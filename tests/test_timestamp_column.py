"""[pipeline] timestamp_column: Segment's tracks tables as they are, and another event time column.

Segment writes the same `tracks` shape as RudderStack (its column set below). The edge events
are loaded in it; with timestamp_column = "original_timestamp" the `timestamp` column holds
times in the reverse order (and is set where the event time is NULL), so a pipeline reading the
wrong column would give other rows.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from journeyctl import api
from journeyctl.config import load_config
from journeyctl.datatests import run_data_tests
from journeyctl.errors import ConfigError
from journeyctl.preflight import preflight
from tests import edge_events as E
from tests.helpers import duckdb_connector, load, normalised, params, read_tables, run_pipeline

SEGMENT_COLUMNS = [
    ("id", "VARCHAR"), ("anonymous_id", "VARCHAR"), ("user_id", "VARCHAR"), ("event", "VARCHAR"),
    ("event_text", "VARCHAR"), ("timestamp", "TIMESTAMP"), ("original_timestamp", "TIMESTAMP"),
    ("sent_at", "TIMESTAMP"), ("received_at", "TIMESTAMP"), ("uuid_ts", "TIMESTAMP"),
    ("context_library_name", "VARCHAR"), ("context_page_path", "VARCHAR"),
]


def mirrored(t: datetime | None) -> datetime:
    """A time in the reverse order of the edge events' (never NULL)."""
    return datetime(2026, 11, 3) - (t - datetime(2026, 11, 2)) if t else datetime(2026, 11, 4)


def segment_rows(event_time: str) -> list[tuple]:
    """The edge events in Segment's columns, their event time in `event_time`."""
    rows = []
    for id_, anonymous_id, user_id, t, received_at, event, path in E.ROWS:
        times = {"timestamp": t, "original_timestamp": mirrored(t)}
        if event_time == "original_timestamp":
            times = {"timestamp": mirrored(t), "original_timestamp": t}
        rows.append((id_, anonymous_id, user_id, event, event.lower(), times["timestamp"],
                     times["original_timestamp"], t, received_at, received_at, "analytics.js", path))
    return rows


@pytest.fixture
def db(tmp_path):
    with duckdb_connector(tmp_path / "j.duckdb") as connector:
        yield connector


def test_segment_tracks_work_as_they_are(db):
    load(db, "tracks", SEGMENT_COLUMNS, segment_rows("timestamp"))
    run_pipeline(db, params())
    assert read_tables(db, params()) == normalised(E.expected_tables())


def test_timestamp_column_is_the_event_time_of_rules_1_to_3_and_the_data_tests(db):
    load(db, "tracks", SEGMENT_COLUMNS, segment_rows("original_timestamp"))
    p = params(timestamp_column="original_timestamp")
    result = run_pipeline(db, p)
    assert read_tables(db, p) == normalised(E.expected_tables())
    assert (result.unusable_rows, result.duplicate_rows) == (E.DROPPED_BY_RULES, E.DUPLICATES_COLLAPSED)
    assert run_data_tests(db, p).passed


def test_timestamp_column_from_journeyctl_toml(tmp_path):
    (tmp_path / "journeyctl.toml").write_text('[pipeline]\ntimestamp_column = "Sent_At"\n')
    assert load_config(str(tmp_path / "journeyctl.toml")).pipeline_params("tracks").timestamp_column == "sent_at"


@pytest.mark.parametrize("value", ["sent-at", "1st", "", "a.b"])
def test_timestamp_column_must_be_a_plain_name(tmp_path, value):
    (tmp_path / "journeyctl.toml").write_text(f'[pipeline]\ntimestamp_column = "{value}"\n')
    with pytest.raises(ConfigError, match="timestamp_column"):
        load_config(str(tmp_path / "journeyctl.toml")).pipeline_params("tracks")


def test_a_missing_or_untimely_timestamp_column_is_refused_before_any_sql(db):
    load(db, "tracks", SEGMENT_COLUMNS, segment_rows("timestamp"))
    with pytest.raises(ConfigError, match="lacks column.*: sent_at_utc"):
        preflight(db, params(timestamp_column="sent_at_utc"))
    with pytest.raises(ConfigError, match=r"tracks\.event_text is VARCHAR, not a timestamp"):
        preflight(db, params(timestamp_column="event_text"))


def test_segment_event_time_on_every_warehouse(warehouse):
    """The derived source table (original_timestamp AS timestamp) on Snowflake, BigQuery, Redshift."""
    warehouse.extra_pipeline = {"timestamp_column": "original_timestamp"}
    warehouse.load(segment_rows("original_timestamp"), SEGMENT_COLUMNS)
    result = api.run(warehouse.engine, config=warehouse.config(), test=True)
    assert result.data_tests.passed
    with warehouse.connector() as connector:
        assert read_tables(connector, warehouse.params()) == normalised(E.expected_tables())
