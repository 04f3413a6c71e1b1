"""Identity graph mode: build_graph_aliases gives exactly the mapping a plain-Python
union-find written from the contract gives, on random and shaped graphs, on DuckDB and
on every stand-in."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlglot import exp

from journeyctl import config
from journeyctl.connectors.base import Connector
from journeyctl.datatests import run_identity_data_tests
from journeyctl.dialects import DIALECTS
from journeyctl.errors import ConfigError, ExecutionError
from journeyctl.identity import build_graph_aliases, counted_events, latest_user_query
from journeyctl.names import TableName
from tests.helpers import duckdb_connector, params, published_relations, run_pipeline, schema_tables

COLUMNS = [("id", "VARCHAR"), ("anonymous_id", "VARCHAR"), ("user_id", "VARCHAR"),
           ("timestamp", "TIMESTAMP"), ("event", "VARCHAR")]
ZERO_UUID = "00000000-0000-0000-0000-000000000000"
START = datetime(2026, 3, 1, 12, 0, 0)
EVENTS, OUT = TableName.parse("g.events"), TableName.parse("g.aliases")
IDENTITY_PROFILE = settings(max_examples=60, deadline=None,
                            suppress_health_check=[HealthCheck.function_scoped_fixture])


# --- the reference: the contract's words, in plain Python --------------------------------------
PLACEHOLDERS = {"", "null", "none", "undefined", "unknown", "nan", "0", ZERO_UUID}


def key(x: str) -> str:
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in x.strip(" "))


def reference(events, placeholder_ids=(), max_users=50) -> dict[str, str]:
    """alias → visitor for counted `events` (id, anonymous_id, user_id, timestamp, event)."""
    placeholders = {*PLACEHOLDERS, *(key(p) for p in placeholder_ids)}
    real = lambda x: x is not None and key(x) not in placeholders  # noqa: E731
    users = {u for _, _, u, _, _ in events if u is not None}
    anons = {a for _, a, _, _, _ in events if a is not None}
    latest = {}
    for i, a, u, ts, _ in events:
        if a is not None and u is not None and (a not in latest or (ts, i) > latest[a][:2]):
            latest[a] = (ts, i, u)
    default = {u: u for u in users} | {a: latest[a][2] if a in latest else a for a in anons - users}

    parent = {x: x for x in users | anons if real(x)}
    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    for _, a, u, _, _ in events:
        if real(a) and real(u):
            parent[find(a)] = find(u)
    members: dict[str, set] = {}
    for x in parent:
        members.setdefault(find(x), set()).add(x)
    visitor = {}
    for i, a, u, ts, _ in sorted(events, key=lambda e: (e[3], e[0])):
        if real(u):
            visitor.setdefault(find(u), u)
    mapping = {}
    for alias, fallback in default.items():
        root = find(alias) if real(alias) else None
        if root is None or len(members[root] & users) > max_users:
            mapping[alias] = fallback
        else:
            mapping[alias] = visitor.get(root, alias)
    return mapping


def events_from(pairs) -> list[tuple]:
    """Counted events from (anonymous_id, user_id, minute) triples; ids unique, not in time order."""
    return [(f"e{(i * 7919) % 100003:06d}", a, u, START + timedelta(minutes=m), "Page Viewed")
            for i, (a, u, m) in enumerate(pairs)]


def load(connector, events) -> None:
    """INSERTs, not the DuckDB connector's CSV path, which reads '' as NULL."""
    connector.create_table(EVENTS, COLUMNS)
    Connector.insert_rows(connector, EVENTS, COLUMNS, events)


def graph_mapping(connector, events, **kw) -> tuple[dict[str, str], object]:
    load(connector, events)
    stats = build_graph_aliases(connector, EVENTS, OUT, **kw)
    rows = connector.query(connector.render(exp.select("alias", "dbt_visitor_id").from_(OUT.to_table())))
    mapping = dict(rows)
    assert len(mapping) == len(rows), "one row per alias"
    return mapping, stats


@pytest.fixture(scope="module")
def duck(tmp_path_factory):
    with duckdb_connector(tmp_path_factory.mktemp("identity") / "graph.duckdb") as connector:
        connector.execute("CREATE SCHEMA IF NOT EXISTS g")
        yield connector


# --- shaped graphs ------------------------------------------------------------------------------
def rid(rng: random.Random, prefix: str) -> str:
    """A random id, so the dense numbering (sorted ids) is unrelated to the graph's shape."""
    return f"{prefix}-{rng.getrandbits(48):012x}"


def shuffled_chain(rng, links: int, minute=lambda i: i) -> list[tuple]:
    """anonymous_0 – user_0 – anonymous_1 – user_1 – …, every link one event."""
    anons = [rid(rng, "a") for _ in range(links + 1)]
    users = [rid(rng, "u") for _ in range(links)]
    pairs = [p for i, u in enumerate(users) for p in ((anons[i], u, minute(2 * i)),
                                                      (anons[i + 1], u, minute(2 * i + 1)))]
    rng.shuffle(pairs)
    return pairs


def shapes(rng: random.Random) -> dict[str, tuple[list[tuple], dict]]:
    hub, device = rid(rng, "u"), rid(rng, "a")
    giant_nodes = [rid(rng, "a" if i % 3 else "u") for i in range(150)]
    return {
        "a shuffled chain": (shuffled_chain(rng, 120), {}),
        "a chain whose latest events are its first links": (shuffled_chain(rng, 40, lambda i: -i), {}),
        "a star: one user on many devices": ([(rid(rng, "a"), hub, i % 7) for i in range(60)], {}),
        "a shared device with many users, under the guardrail": (
            [(device, rid(rng, "u"), i % 5) for i in range(12)], {"max_users_per_visitor": 12}),
        "a shared device with many users, over the guardrail": (
            [(device, rid(rng, "u"), i % 5) for i in range(12)] + [(rid(rng, "a"), None, 3)],
            {"max_users_per_visitor": 11}),
        "a giant component": (
            [(rng.choice(giant_nodes), rng.choice(giant_nodes[::3]), rng.randrange(30))
             for _ in range(400)], {}),
        "isolated anonymous ids": ([(rid(rng, "a"), None, i) for i in range(20)], {}),
        "placeholders join nothing": ([
            ("dev-1", "alice", 1), (" NULL ", "alice", 2), (" NULL ", "bob", 3),
            ("dev-2", "undefined", 4), ("dev-2", "bob", 0), ("0", "carol", 5), (ZERO_UUID, "carol", 6),
            ("dev-3", "Guest ", 7), ("dev-4", " guest", 8), ("dev-4", "dave", 9), ("nan", None, 1),
            ("", "erin", 2), ("dev-5", "UNKNOWN", 3), ("dev-5", "None", 4)],
            {"placeholder_ids": ["  GUEST  "]}),
        "an anonymous_id equal to a user_id is one node": ([
            ("dev-1", "alice", 5), ("alice", "bob", 2), ("bob", None, 1), ("dev-2", "bob", 9)], {}),
        "ties on timestamp are broken by id": ([
            ("dev-1", "zed", 0), ("dev-1", "amy", 0), ("dev-2", "amy", 0), ("dev-2", "max", 0)], {}),
        "the earliest identified event may carry no anonymous id": ([
            (None, "late-user", 0), ("dev-1", "first-user", 1), ("dev-1", "late-user", 2)], {}),
    }


SHAPES = sorted(shapes(random.Random(0)))


@pytest.mark.parametrize("shape", SHAPES)
@settings(IDENTITY_PROFILE, max_examples=3)
@given(seed=st.integers(0, 2**32))
def test_shaped_graphs_match_the_reference_on_duckdb(duck, shape, seed):
    pairs, kw = shapes(random.Random(seed))[shape]
    events = events_from(pairs)
    mapping, _ = graph_mapping(duck, events, **kw)
    assert mapping == reference(events, kw.get("placeholder_ids", ()), kw.get("max_users_per_visitor", 50))


def test_stats_count_components_fallbacks_and_placeholders(duck):
    events = events_from([("d1", "u1", 0), ("d2", "u1", 1), ("d3", None, 2),
                          ("d4", "u2", 0), ("d4", "u3", 1), ("d4", "u4", 2), ("d5", "u4", 3),
                          (" Null", "u5", 0), ("d6", "undefined", 0)])
    _, stats = graph_mapping(duck, events, max_users_per_visitor=2)
    assert (stats.components, stats.largest_component) == (5, 5)  # {d1 d2 u1} {d3} {d4 d5 u2 u3 u4} {u5} {d6}
    assert (stats.fallback_components, stats.fallback_ids) == (1, 5)
    assert stats.placeholder_ids == 2


def test_a_chain_takes_few_rounds(duck):
    events = events_from(shuffled_chain(random.Random(3), 2000))
    mapping, stats = graph_mapping(duck, events, max_users_per_visitor=2000)
    assert mapping == reference(events, max_users=2000) and len(set(mapping.values())) == 1
    assert stats.rounds <= 12  # min-label propagation would need ~2000


def test_rounds_guard_raises_and_leaves_nothing(duck):
    events = events_from(shuffled_chain(random.Random(4), 300))
    duck.execute("DROP TABLE IF EXISTS g.aliases")
    with pytest.raises(ExecutionError, match="did not settle in 1 rounds"):
        graph_mapping(duck, events, max_rounds=1)
    tables = {r[0] for r in duck.query("SELECT table_name FROM information_schema.tables "
                                       "WHERE table_schema = 'g'")}
    assert tables == {"events"}


def test_a_failing_statement_raises_execution_error_and_leaves_out_as_it_was(duck):
    duck.execute("CREATE OR REPLACE TABLE g.aliases AS SELECT 'old' AS alias, 'old' AS dbt_visitor_id")
    duck.execute("CREATE OR REPLACE TABLE g.events AS SELECT 'e1' AS id, 'd1' AS anonymous_id, "
                 "'u1' AS user_id, 'Page Viewed' AS event")  # no timestamp: the visitors step fails
    with pytest.raises(ExecutionError, match="identity graph") as failure:
        build_graph_aliases(duck, EVENTS, OUT)
    assert failure.value.exit_code == 4 and failure.value.sql
    tables = {r[0] for r in duck.query("SELECT table_name FROM information_schema.tables "
                                       "WHERE table_schema = 'g'")}
    assert tables == {"events", "aliases"}
    assert duck.query("SELECT * FROM g.aliases") == [("old", "old")]


def test_fallback_is_the_stage_templates_default_rule(duck):
    """Over the same events, the fallback query and the dbt_aliases_mapping stage agree."""
    events = events_from(shapes(random.Random(5))["placeholders join nothing"][0])
    load(duck, events)
    rows = duck.query(duck.render(latest_user_query(EVENTS, duck)))
    run_pipeline(duck, params(source=str(EVENTS), schema="stage"), select=("dbt_aliases_mapping",))
    stage = duck.query("SELECT alias, dbt_visitor_id FROM stage.dbt_aliases_mapping")
    assert sorted(rows) == sorted(stage) and len(rows) == len(reference(events))


# --- random graphs ------------------------------------------------------------------------------
USER_POOL = [f"u{i}" for i in range(8)] + ["NULL", " undefined ", "0", ZERO_UUID, "Guest", "a1"]
ANON_POOL = [f"a{i}" for i in range(10)] + ["u1", " NULL ", "", "nan", "guest ", "It's", "a\\b"]


@st.composite
def random_events(draw):
    pairs = draw(st.lists(st.tuples(
        st.one_of(st.none(), st.sampled_from(ANON_POOL)),
        st.one_of(st.none(), st.sampled_from(USER_POOL)),
        st.integers(0, 6)).filter(lambda p: p[0] is not None or p[1] is not None), max_size=40))
    return events_from(pairs)


@IDENTITY_PROFILE
@given(events=random_events(), max_users=st.integers(1, 5),
       placeholders=st.sampled_from([(), ("GUEST",), ("u7", " a9 "), ("it'S", "A\\B")]))
def test_random_graphs_match_the_reference_on_duckdb(duck, events, max_users, placeholders):
    mapping, _ = graph_mapping(duck, events, placeholder_ids=placeholders,
                               max_users_per_visitor=max_users)
    assert mapping == reference(events, placeholders, max_users)


# --- the stand-ins -----------------------------------------------------------------------------
def test_fixed_graphs_match_the_reference_on_every_standin(warehouse):
    """Every shape in one source table (their ids do not overlap): the pipeline's tables with
    dbt_aliases_mapping rebuilt in graph mode from the counted events, then the graph data tests."""
    rng = random.Random(7)
    events, kw = [], {"placeholder_ids": ["  GUEST  "], "max_users_per_visitor": 11}
    for n, shape in enumerate(SHAPES):
        pairs, _ = shapes(rng)[shape]
        if shape in ("a shuffled chain", "a giant component"):
            pairs = pairs[:60]
        tag = lambda x: x if x is None or key(x) in PLACEHOLDERS | {"guest"} else f"{x}~{n}"  # noqa: E731
        events += [(f"{i}-{n}", tag(a), tag(u), ts, e) for i, a, u, ts, e in events_from(pairs)]
    warehouse.load(events, COLUMNS)
    p = warehouse.params()
    aliases = p.table_for("dbt_aliases_mapping")
    with warehouse.connector() as c:
        run_pipeline(c, p)
        with counted_events(c, p.source, False, p.table_for("scratch")) as counted:
            stats = build_graph_aliases(c, counted, aliases, **kw)
        rows = c.query(c.render(exp.select("alias", "dbt_visitor_id").from_(aliases.to_table())))
        tests = run_identity_data_tests(c, p, **kw)
        left = schema_tables(c, p.schema)
    assert dict(rows) == reference(events, kw["placeholder_ids"], kw["max_users_per_visitor"])
    assert len(rows) == len(dict(rows))
    assert stats.fallback_components >= 1 and stats.placeholder_ids == 10 and stats.rounds >= 1
    assert tests.passed and len(tests.results) == 3
    assert left == published_relations(p), "working tables are dropped"


# --- data tests ---------------------------------------------------------------------------------
CORRUPTIONS = {
    "an alias moved to another component's visitor": (
        "UPDATE journey.dbt_aliases_mapping SET dbt_visitor_id = 'u3' WHERE alias = 'd3'",
        {"component_has_one_visitor", "visitor_aliases_connected", "visitor_is_earliest_user"}),
    "a component mapped to a later user": (
        "UPDATE journey.dbt_aliases_mapping SET dbt_visitor_id = 'u2' WHERE dbt_visitor_id = 'u1'",
        {"visitor_is_earliest_user"}),
    "an alias missing": (
        "DELETE FROM journey.dbt_aliases_mapping WHERE alias = 'd4'", {"component_has_one_visitor"}),
    "the default rule's mapping": (None, {"component_has_one_visitor", "visitor_is_earliest_user"}),
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_identity_data_tests_pass_on_graph_aliases_and_catch(tmp_path, corruption):
    events = events_from([("d1", "u1", 0), ("d2", "u1", 1), ("d2", "u2", 2), ("d3", "u2", 3),
                          ("d4", None, 4), ("d5", "u3", 5), (" null ", "u3", 6), (" null ", "u1", 7)])
    later_copy = (events[0][0], "d1", "u9", events[0][3], events[0][3] + timedelta(hours=1), "x")
    columns = [*COLUMNS, ("received_at", "TIMESTAMP")]
    rows = [(*e, e[3]) for e in events] + [later_copy[:4] + (later_copy[5], later_copy[4])]
    p = params()
    with duckdb_connector(tmp_path / "j.duckdb") as c:
        c.create_table(p.source, columns)
        Connector.insert_rows(c, p.source, columns, rows)
        run_pipeline(c, p)
        statement, failing = CORRUPTIONS[corruption]
        if statement is not None:
            with counted_events(c, p.source, True, p.table_for("scratch")) as counted:
                build_graph_aliases(c, counted, p.table_for("dbt_aliases_mapping"))
            assert run_identity_data_tests(c, p).passed
            c.execute(statement)
        run = run_identity_data_tests(c, p)
        assert {r.name for r in run.failed} == failing
        assert schema_tables(c, p.schema) == published_relations(p), "working tables are dropped"


# --- rendering and configuration ---------------------------------------------------------------
@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_every_template_renders_for_every_dialect(tmp_path, dialect):
    """No template uses a construct a dialect cannot express (generation refuses any loss)."""
    from journeyctl.identity import _params
    from journeyctl.render import compile_with_tables, generate
    from journeyctl.stages import render_template, template_dir
    tables = {n: TableName.parse(f"s.{n}") for n in ("events", "ids", "links", "components", "visitors",
                                                       "latest_user", "source", "chosen_copies", "aliases")}
    root = template_dir()
    for path in sorted((root / "identity").rglob("*.sql")):
        if not path.name.startswith("_"):
            t = render_template(str(path.relative_to(root)), _params(["it's", "a\\b"], 3))
            assert generate(compile_with_tables(t, DIALECTS[dialect], tables), DIALECTS[dialect], path.name)


def test_config_validates_the_identity_keys():
    assert config.identity_mode("graph") == "graph"
    assert config.identity_mode("latest_user") == "latest_user"
    assert config.placeholder_ids(["guest", " N/A "]) == ("guest", " N/A ")
    assert config.max_users_per_visitor(1) == 1
    assert config.max_users_per_visitor(10**9) == 10**9
    for bad in [lambda: config.identity_mode("graphs"), lambda: config.placeholder_ids("guest"),
                lambda: config.placeholder_ids([1]), lambda: config.max_users_per_visitor(0),
                lambda: config.max_users_per_visitor(2.5), lambda: config.max_users_per_visitor(True)]:
        with pytest.raises(ConfigError):
            bad()
