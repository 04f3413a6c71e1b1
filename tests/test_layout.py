"""The two layouts on every engine: the views are the tables (names, columns, types, rows), and a
run moves a schema from one layout to the other, full or incremental, in one publish.
"""

from __future__ import annotations

from journeyctl.layout import EVENTS_TABLE
from journeyctl.names import SchemaName
from tests import edge_events as E
from tests.helpers import PUBLISHED, normalised, read_tables
from tests.test_incremental import BATCHES, COLUMNS, full_rebuild_into, tables
from tests.warehouses import Warehouse, journeyctl, make_warehouse

VIEWS = {"dbt_mapped_tracks", "dbt_track_facts", "dbt_tracks_flow"}


def run(w: Warehouse, *args: str) -> str:
    result = journeyctl(w.config(), "run", "--target", w.engine, *args)
    assert result.exit_code == 0, result.stderr
    return result.stderr


def published(w: Warehouse) -> tuple[dict[str, dict[str, str]], set[str], set[str]]:
    """Each published table's columns (name → type), what the schema holds, and which are views."""
    schema = SchemaName.parse(w.schema)
    with w.connector() as c:
        columns = {name: c.columns(w.params().table_for(name)) for name in PUBLISHED}
        return (columns, {t.name.lower() for t in c.tables_in_schema(schema)},
                {v.lower() for v in c.views_in_schema(schema)})


def test_views_are_the_tables_and_a_run_switches_layouts_both_ways(every_engine):
    """tables, then views, then tables again, on one schema: the three views have the tables' columns
    and types, in order, and every run publishes the contract's rows; the other layout's relations
    are gone after each switch."""
    w = every_engine
    w.load()
    run(w, "--layout", "tables")
    as_tables, held, views = published(w)
    assert held == set(PUBLISHED) and views == set()
    run(w, "--layout", "views")
    as_views, held, views = published(w)
    assert held == set(PUBLISHED) | {EVENTS_TABLE} and views == VIEWS
    assert {n: list(as_views[n].items()) for n in VIEWS} == {n: list(as_tables[n].items()) for n in VIEWS}
    with w.connector() as c:
        assert read_tables(c, w.params()) == normalised(E.expected_tables())
    run(w, "--layout", "tables")
    again, held, views = published(w)
    assert held == set(PUBLISHED) and views == set() and again == as_tables
    with w.connector() as c:
        assert read_tables(c, w.params()) == normalised(E.expected_tables())


def test_incremental_runs_across_a_layout_switch_stay_exact(every_engine, tmp_path):
    """A switch makes the next incremental run a full build (the layout is a setting); the runs
    after it are incremental again, and every run leaves what a full rebuild would."""
    w = every_engine
    if not w.connector().transactional_dml:
        return  # no incremental runs there (test_incremental covers the refusal)
    w.load(rows=BATCHES[0], columns=COLUMNS)
    run(w, "--incremental", "--layout", "tables")
    loaded = list(BATCHES[0])
    for k, (layout, batch, mode) in enumerate([("views", BATCHES[1], "full build (settings changed"),
                                               ("views", BATCHES[3], "recomputing"),
                                               ("tables", [], "full build (settings changed")]):
        if batch:
            with w.connector() as c:
                c.insert_rows(w.params().source, COLUMNS, batch)
            loaded += batch
        told = run(w.in_layout(layout), "--incremental")
        assert mode in told and ("layout" in told) == mode.startswith("full"), told
        with w.connector() as c:
            got = tables(c, w.params())
            want = full_rebuild_into(c, loaded, w.params(), f"{w.schema}_full{k}")
        assert got == want, f"after switching to {layout}"


def test_a_selected_switch_keeps_the_event_table_while_views_read_it(tmp_path):
    """Back to tables with --select: the views it does not replace still read dbt_journey_events,
    which stays until a run replaces them all."""
    w = make_warehouse("duckdb", None, tmp_path)
    w.load()
    run(w, "--layout", "views")
    run(w, "--layout", "tables", "--select", "dbt_session_tracks")
    _, held, views = published(w)
    assert EVENTS_TABLE in held and views == VIEWS
    run(w, "--layout", "tables", "--select", "dbt_mapped_tracks")
    _, held, views = published(w)
    assert EVENTS_TABLE in held and views == VIEWS - {"dbt_mapped_tracks"}
    run(w, "--layout", "tables")
    _, held, views = published(w)
    assert held == set(PUBLISHED) and views == set()
    with w.connector() as c:
        assert read_tables(c, w.params()) == normalised(E.expected_tables())
