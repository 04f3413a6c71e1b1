"""Incremental runs equal a full rebuild: a property test on DuckDB, fixed batches on every engine,
and the rules around state (no received_at, changed settings, --select, concurrent runs).

The comparison is always the five published tables as multisets of exact rows: after each batch
of newly loaded source rows, an incremental run on one database against a full run over all rows
loaded so far on another.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from journeyctl import plancache
from journeyctl.connectors.base import Connector
from journeyctl.errors import ConfigError, ExecutionError
from journeyctl.incremental import STATE, plan_incremental_run
from journeyctl.layout import LAYOUTS
from journeyctl.names import TableName
from journeyctl.render import PipelineParams
from journeyctl.preflight import preflight
from journeyctl.runner import execute_run, plan_run
from tests.helpers import PUBLISHED, duckdb_connector, load, normalise, params, staging_tables
from tests.warehouses import Warehouse, journeyctl

COLUMNS = [("id", "VARCHAR"), ("anonymous_id", "VARCHAR"), ("user_id", "VARCHAR"),
           ("timestamp", "TIMESTAMP"), ("received_at", "TIMESTAMP"), ("event", "VARCHAR")]
BASE = datetime(2026, 11, 2, 9, 0)
LOOKBACK = timedelta(hours=6)


def tables(c: Connector, p: PipelineParams) -> dict[str, Counter]:
    out = {}
    for name in PUBLISHED:
        rows = c.query(c.render(exp.select("*").from_(p.table_for(name).to_table())))
        out[name] = Counter(tuple(normalise(v) for v in row) for row in rows)
    return out


def full_rebuild(c: Connector, rows: list[tuple], p: PipelineParams) -> dict[str, Counter]:
    load(c, str(p.source), COLUMNS, rows)
    execute_run(c, plan_run(c, preflight(c, p)))
    return tables(c, p)


def incremental_run(c: Connector, p: PipelineParams, **kw):
    return execute_run(c, plan_incremental_run(c, preflight(c, p), **kw))


def append(c: Connector, p: PipelineParams, rows: list[tuple], first: bool) -> None:
    if first:
        load(c, str(p.source), COLUMNS, rows)
    else:
        c.insert_rows(p.source, COLUMNS, rows)


# --- the property: random histories and batches, after every batch incremental == full --------

ID_POOL = [f"e{i}" for i in range(24)]
USERS = ["u1", "u2", "u3", " NULL "]  # a placeholder user id, which joins nothing in graph mode
ANONYMOUS = ["a1", "a2", "a3", "a4", "u1", "undefined"]  # an anonymous id equal to a user id; a placeholder


@st.composite
def source_row(draw, batch: int):
    """One delivered row: ids from small pools (re-deliveries, shared devices and identifies happen
    by themselves), timestamps on a minute grid (ties, gaps of exactly 30 minutes) with jitter,
    some NULLs. Its received_at is an offset in half hours from the previous batch's latest
    received_at (see `batches`): rows loaded late, re-read, or with equal received_at."""
    unusable = draw(st.integers(0, 19)) == 0
    anonymous_id = draw(st.none() | st.sampled_from(ANONYMOUS))
    user_id = draw(st.none() | st.none() | st.sampled_from(USERS))
    minute = draw(st.integers(0, 180))
    jitter = draw(st.sampled_from([timedelta(0), timedelta(0), timedelta(microseconds=1),
                                   timedelta(seconds=59)]))
    received_offset = timedelta(minutes=30 * draw(st.integers(-11, 6)))  # lookback: 6 h = 12 steps
    if batch == 0 and draw(st.integers(0, 9)) == 0:
        received_offset = None  # only a full build sees these (the contract's guarantee starts after it)
    row = [draw(st.sampled_from(ID_POOL)), anonymous_id, user_id,
           BASE + timedelta(minutes=minute) + jitter, received_offset,
           draw(st.sampled_from(["view", "click", "buy"]))]
    if unusable:
        row[draw(st.sampled_from([0, 3]))] = None  # no id, or no timestamp
    if unusable and draw(st.booleans()):
        row[1] = row[2] = None  # no identity
    return row


@st.composite
def batches(draw):
    """1-4 batches; each row's received_at no older than the previous batch's latest minus the
    lookback, as the contract's guarantee requires."""
    out, latest = [], BASE + timedelta(hours=20)
    for batch in range(draw(st.integers(1, 4))):
        rows = draw(st.lists(source_row(batch), min_size=1 if batch == 0 else 0, max_size=14))
        # sometimes a batch loads much later, so that earlier rows fall out of the lookback and
        # only the kept events remember them; never older than the guarantee allows (a row exactly
        # at the edge is read again)
        jump = timedelta(hours=draw(st.sampled_from([0, 0, 12, 24])))
        for row in rows:
            row[4] = None if row[4] is None else max(latest + jump + row[4], latest - LOOKBACK)
        out.append([tuple(r) for r in rows])
        latest = max([latest, *(r[4] for r in rows if r[4] is not None)])
    return out


IDENTITIES = {
    "latest_user": {},
    # the guardrail at 2 users, so that both merged and fallen-back components occur
    "graph": {"identity": "graph", "max_users_per_visitor": 2, "placeholder_ids": ("a4",)},
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("identity", IDENTITIES)
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                HealthCheck.function_scoped_fixture])
@given(history=batches())
def test_incremental_runs_equal_a_full_rebuild(identity, layout, history, tmp_path_factory):
    folder = tmp_path_factory.mktemp("inc")
    p = params(**IDENTITIES[identity], layout=layout)
    loaded: list[tuple] = []
    with duckdb_connector(folder / "inc.duckdb") as inc, duckdb_connector(folder / "full.duckdb") as full:
        for k, batch in enumerate(history):
            loaded += batch
            append(inc, p, batch, first=k == 0)
            result = incremental_run(inc, p)
            assert result.incremental.mode == ("full" if k == 0 else "incremental")
            assert tables(inc, p) == full_rebuild(full, loaded, p), f"after batch {k}"
        assert staging_tables(inc, p.schema) == []


# --- fixed batches, on every engine ---------------------------------------------------------

def ts(minutes: float) -> datetime:
    return BASE + timedelta(minutes=minutes)


R0 = BASE + timedelta(hours=20)
BATCHES = [
    [  # history: two anonymous devices, one identified user, a repeated id, a NULL received_at
        ("h1", "dev-a", None, ts(0), R0, "view"),
        ("h2", "dev-a", None, ts(20), R0, "view"),
        ("h3", "dev-a", None, ts(50), R0, "click"),
        ("h4", "dev-b", "user-1", ts(10), R0, "login"),
        ("h5", "dev-b", None, ts(25), R0, "view"),
        ("h5", "dev-b", None, ts(25), R0 + timedelta(minutes=5), "view (later copy)"),
        ("h6", "dev-c", None, ts(5), None, "view"),
        ("h7", None, "user-2", ts(0), R0, "view"),
        ("h8", "user-2", None, ts(30), R0, "view"),  # anonymous id equal to a user id
    ],
    [  # a late event splitting nothing but moving numbers, an identify re-mapping dev-a,
       # a re-delivered copy with a later received_at (ignored) and one with an equal one
        ("n1", "dev-a", None, ts(35), R0 + timedelta(hours=1), "late"),
        ("n2", "dev-a", "user-3", ts(60), R0 + timedelta(hours=1), "identify"),
        ("h1", "dev-a", None, ts(0), R0 + timedelta(hours=1), "re-delivered"),
        ("h7", None, "user-2", ts(0), R0, "a tie that sorts first"),
        ("n3", "dev-b", "user-4", ts(90), R0 + timedelta(hours=1), "shared device"),
    ],
    [],  # nothing new
    [  # rows read again (inside the lookback), a visitor's first event arriving late
        ("n1", "dev-a", None, ts(35), R0 + timedelta(hours=1), "late"),
        ("n4", None, "user-2", ts(-60), R0 + timedelta(hours=2), "first"),
        (None, "dev-z", None, ts(1), R0 + timedelta(hours=2), "no id"),
    ],
]


def test_fixed_batches_equal_a_full_rebuild_on_every_engine(every_engine, layout, tmp_path):
    w = every_engine.in_layout(layout)
    if not w.connector().transactional_dml:
        w.load(rows=BATCHES[0], columns=COLUMNS)
        refused = journeyctl(w.config(), "run", "--target", w.engine, "--incremental")
        assert refused.exit_code == 2 and "cannot run incrementally" in refused.stderr
        return
    full = dataclasses.replace(w, schema=w.schema + "_full", base_dir=tmp_path / "full") \
        if w.engine != "duckdb" else None
    loaded: list[tuple] = []
    for k, batch in enumerate(BATCHES):
        loaded += batch
        if k == 0:
            w.load(rows=batch, columns=COLUMNS)
        elif batch:
            with w.connector() as c:
                c.insert_rows(w.params().source, COLUMNS, batch)
        result = journeyctl(w.config(), "run", "--target", w.engine, "--incremental", "--test")
        assert result.exit_code == 0, result.stderr
        assert ("full build" in result.stderr) == (k == 0), result.stderr
        with w.connector() as c:
            got = tables(c, w.params())
            assert staging_tables(c, w.params().schema) == []
        if full is None:  # DuckDB: the full rebuild goes to a second file
            with duckdb_connector(tmp_path / "full.duckdb") as c:
                want = full_rebuild(c, loaded, w.params())
        else:
            with w.connector() as c:
                want = full_rebuild_into(c, loaded, w.params(), full.schema)
        assert got == want, f"after batch {k}"


def full_rebuild_into(c: Connector, rows, p: PipelineParams, schema: str) -> dict[str, Counter]:
    """A full run over `rows` (a source of its own) into `schema` of the same warehouse."""
    from journeyctl.names import SchemaName
    source = TableName((*p.source.parts[:-1], p.source.name + "_all"))
    q = dataclasses.replace(p, source=source, schema=SchemaName.parse(schema))
    load(c, str(source), COLUMNS, rows)
    execute_run(c, plan_run(c, preflight(c, q)))
    return tables(c, q)


# --- rules ----------------------------------------------------------------------------------

def test_reading_the_same_rows_again_changes_nothing(tmp_path):
    p = params()
    with duckdb_connector(tmp_path / "j.duckdb") as c:
        load(c, "tracks", COLUMNS, BATCHES[0] + BATCHES[1])
        incremental_run(c, p)
        before = tables(c, p)
        again = incremental_run(c, p).incremental
        assert (again.mode, again.events_changed, again.visitors_affected) == ("incremental", 0, 0)
        assert again.rows_read == len(BATCHES[0] + BATCHES[1]) - 1  # all but the NULL received_at
        assert again.unseen_rows == 1
        assert tables(c, p) == before


def test_only_the_rows_from_the_last_unchanged_session_on_are_replaced(tmp_path, layout):
    """A visitor with three sessions gains an event in the last one: only that session's rows
    (and its session row) are replaced, and the tables equal a full rebuild."""
    p = params(layout=layout)
    at = lambda minutes: BASE + timedelta(minutes=minutes)  # noqa: E731
    history = [(f"h{i}", "a1", None, at(m), at(600), "view") for i, m in enumerate([0, 5, 60, 70, 75, 200, 210])]
    late = [("n1", "a1", None, at(215), at(601), "buy")]
    with duckdb_connector(tmp_path / "j.duckdb") as c, duckdb_connector(tmp_path / "f.duckdb") as f:
        load(c, "tracks", COLUMNS, history)
        incremental_run(c, p)
        c.insert_rows(p.source, COLUMNS, late)
        summary = incremental_run(c, p).incremental
        assert summary.visitors_affected == 1
        events = "dbt_mapped_tracks" if layout == "tables" else "dbt_journey_events"
        assert summary.rows_replaced[events] == {"removed": 2, "written": 3}
        assert summary.rows_replaced["dbt_session_tracks"] == {"removed": 1, "written": 1}
        assert tables(c, p) == full_rebuild(f, history + late, p)


def test_plans_in_a_private_scratch_schema_are_kept_between_runs(tmp_path, monkeypatch):
    """On DuckDB the working tables' names carry no run id, so the second run with the same
    settings reads both plans back instead of rendering them; each run still records its own id."""
    monkeypatch.setattr(plancache, "cache_dir", lambda: tmp_path)
    p = params()
    with duckdb_connector(tmp_path / "j.duckdb") as c, duckdb_connector(tmp_path / "f.duckdb") as f:
        load(c, "tracks", COLUMNS, BATCHES[0])
        incremental_run(c, p)
        c.insert_rows(p.source, COLUMNS, BATCHES[1])
        incremental_run(c, p, run_id="0000000a")
        monkeypatch.setattr(plancache, "render_plan", lambda *a, **kw: pytest.fail("rendered again"))
        c.insert_rows(p.source, COLUMNS, BATCHES[2])
        incremental_run(c, p, run_id="0000000b")
        state = p.table_for(STATE).to_table()
        assert c.query(c.render(exp.select("run_id").from_(state))) == [("0000000b",)]
        assert tables(c, p) == full_rebuild(f, BATCHES[0] + BATCHES[1] + BATCHES[2], p)


def test_a_source_without_received_at_cannot_run_incrementally(tmp_path):
    with duckdb_connector(tmp_path / "j.duckdb") as c:
        load(c, "tracks", [col for col in COLUMNS if col[0] != "received_at"],
             [r[:4] + r[5:] for r in BATCHES[0]])
        with pytest.raises(ConfigError, match="no received_at column"):
            plan_incremental_run(c, preflight(c, params()))


def test_changed_settings_rebuild_in_full_and_say_why(tmp_path):
    p = params()
    with duckdb_connector(tmp_path / "j.duckdb") as c:
        load(c, "tracks", COLUMNS, BATCHES[0])
        incremental_run(c, p)
        told: list[str] = []
        run = plan_incremental_run(c, preflight(c, dataclasses.replace(p, idle_timeout_minutes=45)),
                                   report=told.append)
        assert told == ["incremental: full build (settings changed since the last run: "
                        "idle_timeout_minutes 30 -> 45)"]
        execute_run(c, run)
        with duckdb_connector(tmp_path / "full.duckdb") as f:
            assert tables(c, p) == full_rebuild(f, BATCHES[0], dataclasses.replace(p, idle_timeout_minutes=45))


def test_select_moves_the_chosen_tables_and_keeps_the_state(tmp_path, layout):
    """tables: only the chosen table moves; views: a view moves with its table, and so its siblings."""
    p = params(layout=layout)
    moved, written = (({"dbt_track_facts"}, {"dbt_track_facts"}) if layout == "tables" else
                      ({"dbt_mapped_tracks", "dbt_track_facts", "dbt_tracks_flow"}, {"dbt_journey_events"}))
    with duckdb_connector(tmp_path / "j.duckdb") as c, duckdb_connector(tmp_path / "f.duckdb") as f:
        load(c, "tracks", COLUMNS, BATCHES[0])
        incremental_run(c, p)
        old = tables(c, p)
        c.insert_rows(p.source, COLUMNS, BATCHES[1])
        partial = incremental_run(c, p, select=("dbt_track_facts",)).incremental
        assert not partial.state_advanced and set(partial.rows_replaced) == written
        want = full_rebuild(f, BATCHES[0] + BATCHES[1], p)
        now = tables(c, p)
        assert {n: now[n] for n in moved} == {n: want[n] for n in moved}
        assert {n: now[n] for n in PUBLISHED if n not in moved} == {n: old[n] for n in PUBLISHED if n not in moved}
        assert incremental_run(c, p).incremental.events_changed > 0  # the state did not move
        assert tables(c, p) == want


def test_a_run_that_another_run_overtook_rolls_back(tmp_path):
    """Two runs planned from the same state: the second to apply finds the state replaced and
    rolls back whole; the tables are the first run's."""
    p = params()
    with duckdb_connector(tmp_path / "j.duckdb") as c, duckdb_connector(tmp_path / "f.duckdb") as f:
        load(c, "tracks", COLUMNS, BATCHES[0])
        incremental_run(c, p)
        c.insert_rows(p.source, COLUMNS, BATCHES[1])
        late = plan_incremental_run(c, preflight(c, p))
        incremental_run(c, p)
        applied = tables(c, p)
        with pytest.raises(ExecutionError, match="another incremental run applied its changes"):
            execute_run(c, late)
        assert tables(c, p) == applied == full_rebuild(f, BATCHES[0] + BATCHES[1], p)
        assert c.count_rows(p.table_for(STATE)) == 1
        assert staging_tables(c, p.schema) == []


# --- killed runs ----------------------------------------------------------------------------

@pytest.mark.parametrize("at", [
    "] inc_changes ",            # between stages, before anything is decided
    "] journey_events ",         # between stages, the affected visitors recomputed half-way
    "applying the changes (1/",  # before BEGIN
    "applying the changes (4/",  # inside the transaction: state moved, aliases replaced
    "applying the changes (9/",  # inside the transaction: some event tables replaced
])
def test_a_killed_incremental_run_leaves_the_tables_and_the_next_run_completes(at, tmp_path):
    """SIGKILL at a point of an incremental run: the tables and the state are as before it (an open
    transaction is never half-applied), no working table is left in the file, and the next run
    makes the tables equal a full rebuild."""
    from tests.test_safe_runs_warehouses import Held
    w = Warehouse("duckdb", {"path": "journey.duckdb"}, source="tracks", schema="journey",
                  base_dir=tmp_path)
    w.load(rows=BATCHES[0], columns=COLUMNS)
    config = w.config()
    assert journeyctl(config, "run", "--incremental").exit_code == 0
    with w.connector() as c:
        before = tables(c, w.params())
        c.insert_rows(w.params().source, COLUMNS, BATCHES[1])
    held = Held(config, "run", "--incremental", at=at)
    assert held.kill() < 0
    with w.connector() as c:
        assert tables(c, w.params()) == before
        assert staging_tables(c, w.params().schema) == []  # its working tables were in memory
    result = journeyctl(config, "run", "--incremental", "--test")
    assert result.exit_code == 0, result.stderr
    assert "recomputing" in result.stderr  # incremental again, not a rebuild
    with w.connector() as c, duckdb_connector(tmp_path / "full.duckdb") as f:
        assert tables(c, w.params()) == full_rebuild(f, BATCHES[0] + BATCHES[1], params())
        assert staging_tables(c, w.params().schema) == []


def test_a_killed_incremental_run_on_redshift_rolls_back(redshift, tmp_path):
    from tests.test_safe_runs_warehouses import Held
    w = redshift
    w.load(rows=BATCHES[0], columns=COLUMNS)
    config = w.config()
    assert journeyctl(config, "run", "--target", w.engine, "--incremental").exit_code == 0
    with w.connector() as c:
        before = tables(c, w.params())
        c.insert_rows(w.params().source, COLUMNS, BATCHES[1])
    held = Held(config, "run", "--target", w.engine, "--incremental", at="applying the changes (6/")
    assert held.kill() < 0
    with w.connector() as c:
        assert tables(c, w.params()) == before
    result = journeyctl(config, "run", "--target", w.engine, "--incremental")
    assert result.exit_code == 0, result.stderr
    with w.connector() as c, duckdb_connector(tmp_path / "full.duckdb") as f:
        assert tables(c, w.params()) == full_rebuild(f, BATCHES[0] + BATCHES[1], params())


def test_cli_summary_json_and_dry_run(tmp_path):
    w = Warehouse("duckdb", {"path": "journey.duckdb"}, source="tracks", schema="journey",
                  base_dir=tmp_path, extra_pipeline={"incremental": True, "lookback_hours": 2})
    w.load(rows=BATCHES[0], columns=COLUMNS)
    config = w.config()
    first = journeyctl(config, "run", "--format", "json")
    assert first.exit_code == 0, first.stderr
    import json
    summary = json.loads(first.stdout)["incremental"]
    assert summary["mode"] == "full" and summary["reason"] == "no incremental state in journey yet"
    with w.connector() as c:
        c.insert_rows(w.params().source, COLUMNS, BATCHES[1])
    dry = journeyctl(config, "run", "--dry-run")
    assert dry.exit_code == 0 and "-- apply (one transaction)" in dry.stdout
    assert 'DELETE FROM "journey"."dbt_journey_events"' in dry.stdout
    assert "dbt_track_facts" not in dry.stdout  # a view: nothing to apply to it
    second = journeyctl(config, "run", "--format", "json")
    summary = json.loads(second.stdout)["incremental"]
    assert (summary["mode"], summary["rows_read"], summary["events_changed"]) == ("incremental", 13, 4)  # batch 0 re-read within the lookback
    assert summary["unseen_rows"] == 1 and summary["state_advanced"]
    assert set(summary["rows_replaced"]) == {"dbt_aliases_mapping", "dbt_journey_events", "dbt_session_tracks"}
    assert "source rows have no received_at" in second.stderr
    assert "visitors affected; high-water mark 2026-11-03 06:00:00" in second.stderr
    full = journeyctl(config, "run", "--full-refresh")
    assert "incremental: full build (--full-refresh)" in full.stderr
