"""The journey contract on DuckDB, rule by rule, against rows computed by hand."""

from __future__ import annotations

import pytest

from tests import edge_events as E
from tests.helpers import (duckdb_connector, load, normalised, params, published_relations, read_tables,
                           run_pipeline)


@pytest.fixture
def db(tmp_path):
    with duckdb_connector(tmp_path / "j.duckdb") as connector:
        load(connector, "tracks", E.COLUMNS, E.ROWS)
        yield connector


@pytest.fixture
def built(db, layout):
    run_pipeline(db, params(layout=layout))
    return read_tables(db, params())


def test_aliases_map_each_id_to_its_visitor(built):
    assert built["dbt_aliases_mapping"] == E.ALIASES


def test_mapped_tracks_dedup_visitor_and_exact_idle_minutes(built):
    assert built["dbt_mapped_tracks"] == normalised({"t": E.MAPPED_TRACKS})["t"]


def test_exact_30_minutes_stays_and_30_minutes_plus_1us_starts_a_session(built):
    facts = {row[2]: row[4] for row in built["dbt_track_facts"]}
    assert facts["a2"] == "1 - anon-a"
    assert facts["a3"] == "2 - anon-a"


def test_12_00_59_to_12_31_00_is_more_than_30_minutes(built):
    idle = {row[0]: row[5] for row in built["dbt_mapped_tracks"]}
    assert idle["a5"] == pytest.approx(30.016666666666666, abs=1e-9)


def test_equal_timestamps_are_ordered_by_id(built):
    seq = {row[2]: row[6] for row in built["dbt_track_facts"]}
    assert (seq["a5"], seq["a6"]) == (1, 2)


def test_session_tracks(built):
    assert built["dbt_session_tracks"] == E.SESSION_TRACKS


def test_all_five_tables_default_parameters(built):
    assert built == normalised(E.expected_tables())


def test_non_default_timeout_and_journey_length(db):
    p = params(idle_timeout_minutes=60, journey_length=3)
    run_pipeline(db, p)
    expected = E.expected_tables(E.SESSION_OF_60, E.NEXT_EVENTS_60_3, 3, E.SESSION_TRACKS_60)
    assert read_tables(db, p) == normalised(expected)


def test_source_without_received_at_keeps_one_copy(tmp_path):
    columns = [c for c in E.COLUMNS if c[0] != "received_at"]
    rows = [r[:4] + r[5:] for r in E.ROWS if not r[5].startswith("DUPLICATE")]
    rows.append(rows[0])  # an exact copy
    with duckdb_connector(tmp_path / "j.duckdb") as connector:
        load(connector, "tracks", columns, rows)
        run_pipeline(connector, params())
        assert read_tables(connector, params()) == normalised(E.expected_tables())


def test_source_in_another_schema_and_custom_output_schema(tmp_path):
    with duckdb_connector(tmp_path / "j.duckdb") as connector:
        connector.execute("CREATE SCHEMA rudder")
        load(connector, "rudder.tracks", E.COLUMNS, E.ROWS)
        p = params(source="rudder.tracks", schema="journeys_out")
        run_pipeline(connector, p)
        assert read_tables(connector, p) == normalised(E.expected_tables())


def test_working_table_is_not_left_behind(db, built, layout):
    tables = {r[0] for r in db.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'journey'")}
    assert tables == published_relations(params(layout=layout))


def test_selecting_one_stage_rebuilds_only_it(db):
    """In the tables layout (in the views layout the flow and dbt_mapped_tracks are one table)."""
    run_pipeline(db, params(layout="tables"))
    built = read_tables(db, params())
    db.execute('DELETE FROM journey.dbt_mapped_tracks')
    run_pipeline(db, params(layout="tables"), select=("dbt_tracks_flow",))
    assert read_tables(db, params())["dbt_tracks_flow"] == built["dbt_tracks_flow"]
    assert db.count_rows(params().table_for("dbt_mapped_tracks")) == 0


@pytest.mark.parametrize("compress,expected", [(None, {"Uncompressed"}), (True, {"DICT_FSST"})])
def test_duckdb_text_compression_is_a_target_choice_with_the_same_rows(tmp_path, compress, expected):
    from journeyctl.config import Target
    from journeyctl.connectors import connect

    options = {"path": str(tmp_path / "c.duckdb")} | ({"compress_strings": compress} if compress else {})
    with connect(Target("test", "duckdb", options, tmp_path)) as connector:
        load(connector, "tracks", E.COLUMNS, E.ROWS * 100)
        run_pipeline(connector, params())
        connector.execute("CHECKPOINT")
        methods = {r[0] for r in connector.query(
            "SELECT compression FROM pragma_storage_info('journey.dbt_journey_events') "
            "WHERE column_name = 'event' AND segment_type = 'VARCHAR'")}
        assert methods == expected
        assert read_tables(connector, params())["dbt_aliases_mapping"] == E.ALIASES
