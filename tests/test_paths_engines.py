"""`journeyctl paths` gives the same rows on every engine as on DuckDB (whose rows the property test
checks against the contract), for a set of cases covering every option, over names full of `%`,
`_`, `*`, quotes, backslashes and non-ASCII. Tables are built once per engine and every case runs
in one test (Spark is slow)."""

from __future__ import annotations

from datetime import timedelta

from sqlglot import exp

from journeyctl.analysis.paths import matches, path_spec, render_paths_sql, run_paths
from journeyctl.connectors.base import Connector
from journeyctl.names import SchemaName, TableName
from tests.helpers import duckdb_connector, normalise
from tests.path_reference import Fact, pattern_matches
from tests.test_paths import FACT_COLUMNS, T0

PROMO, LOOKALIKE, NUMBERS = "50% off_banner", "50% offXbanner", "5000 off_banner"
QUOTED, SLASHED, ACCENTED = "it's \"x\"", "back\\slash\\%", "Käse…"


def _session(unit: str, visitor: str, *events: str | None, minute: int = 0, tie: bool = False) -> list[Fact]:
    """Events a minute apart (or, with `tie`, all at one instant, ordered by event_id)."""
    return [Fact(unit, visitor, T0 + timedelta(minutes=0 if tie else minute + i), f"{unit}-{i:02d}", e)
            for i, e in enumerate(events)]


FACTS = [
    *_session("s1", "v1", "Page Viewed", PROMO, "Product Viewed", "Product Viewed", "Cart Viewed",
              "Order Completed"),
    *_session("s2", "v1", "Page Viewed", LOOKALIKE, "Product Viewed", None, "Cart Viewed", "Product Added",
              "Cart Viewed", "Order Completed", minute=60),
    *_session("s3", "v2", NUMBERS, "Product Viewed", QUOTED, "Cart Viewed", minute=5),
    *_session("s4", "v2", SLASHED, "Page Viewed", ACCENTED, "Page Viewed", "Product Viewed", "Order Completed",
              minute=90),
    *_session("s5", "v3", "Page Viewed", "Product Viewed", "Cart Viewed", tie=True),
    *_session("s6", "v4", "Product Viewed", "Product Added", "Product Viewed", "Cart Viewed", "Order Completed",
              "Order Completed", minute=3),
    *_session("s7", "v5", ACCENTED, "Page Viewed", "Order Completed", minute=200),
]
CASES = [
    {},
    {"steps": 3, "top": 3, "edge_limit": 4},
    {"start": "Product Viewed", "steps": 4},
    {"end": "Order Completed", "steps": 3},
    {"start": "Page Viewed", "end": "Order Completed", "steps": 4},
    {"start": "Page Viewed", "end": "Order Completed", "steps": 3, "per": "visitor"},
    {"per": "visitor", "keep_repeats": True, "steps": 8},
    {"exclude": ["50% off_*", "*\\%"], "group": [f"{QUOTED}=quoted", "*t Viewed=Product"]},
    {"exclude": ["*_*"], "group": ["Käse*=cheese", "*a*=has a"], "steps": 6},
    {"group": [f"{PROMO}=promo", "Product *=Product", "Page Viewed=Product"], "start": "Product",
     "min_weight": 2},
    {"group": ["*=everything"], "keep_repeats": False},
    {"start": ACCENTED, "end": "Order Completed", "steps": 3},
    {"end": QUOTED, "group": ["5000*=big"]},
    {"since": (T0 + timedelta(minutes=2)).isoformat(), "until": (T0 + timedelta(minutes=95)).isoformat()},
    {"start": "never there"},
]
STANDALONE = [{"start": "Page Viewed", "end": "Order Completed", "steps": 4, "exclude": ["*_*"]},
              {"end": "Order Completed", "steps": 3, "group": ["Product *=Product"]}]


NAMES = [PROMO, LOOKALIKE, NUMBERS, QUOTED, SLASHED, ACCENTED, "a\nb", "a.b", "x(y)", "a b", "", "[x]", "$^"]
PATTERNS = ["50% off_*", "*%*", "*_*", "a*b", "a.*", "*\\*", "it'*", "x(*)", "K*…", "* *", "*", "[*]", "$*",
            "a?b", "*\n*", "*\\%", "*\"*\"", "50% off_banner"]


def load_facts(connector: Connector, schema: SchemaName, facts: list[Fact]) -> None:
    connector.execute(connector.render(exp.Create(this=exp.Table(this=exp.to_identifier(str(schema))),
                                                  kind="SCHEMA", exists=True)))
    table = TableName.parse(f"{schema}.dbt_track_facts")
    connector.create_table(table, FACT_COLUMNS)
    connector.insert_rows(table, FACT_COLUMNS, [(f.session_id, f.timestamp, f.event_id, f.event, f.session_id,
                                                 f.dbt_visitor_id, n) for n, f in enumerate(facts, 1)])


def results(connector: Connector, schema: SchemaName) -> dict:
    """Every case's result (and the printed queries' rows, normalised) on an open connector."""
    out = {}
    for n, case in enumerate(CASES):
        result = run_paths(connector, schema, path_spec(case))
        out[f"case {n}: {case}"] = (result.as_json(), result.notes)
    for n, case in enumerate(STANDALONE):
        for edges in (False, True):
            sql = render_paths_sql(path_spec(case), schema, connector.dialect, edges=edges)
            out[f"printed {'edges' if edges else 'paths'} {n}"] = [tuple(normalise(v) for v in row)
                                                                   for row in connector.query(sql)]
    return out


def pattern_matrix(connector: Connector) -> list[tuple[str, str, bool]]:
    """Each pattern against each name, in one query: (pattern, name, whether it matches)."""
    pairs = [(p, n) for p in PATTERNS for n in NAMES]
    row = connector.query(connector.render(exp.select(*(matches(exp.Literal.string(n), p) for p, n in pairs))))[0]
    return [(p, n, bool(m)) for (p, n), m in zip(pairs, row)]


def test_every_case_gives_duckdbs_rows(warehouse, tmp_path):
    schema = SchemaName.parse(warehouse.schema)
    with duckdb_connector(tmp_path / "facts.duckdb") as duck:
        load_facts(duck, schema, FACTS)
        expected = results(duck, schema)
        assert [m for m in pattern_matrix(duck) if m[2] != pattern_matches(m[0], m[1])] == []
    assert sum(bool(r[0]["paths"]) for k, r in expected.items() if k.startswith("case")) == len(CASES) - 1
    with warehouse.connector() as connector:
        load_facts(connector, schema, FACTS)
        got = results(connector, schema)
        matrix = pattern_matrix(connector)
    assert [m for m in matrix if m[2] != pattern_matches(m[0], m[1])] == []
    for key in expected:
        assert got[key] == expected[key], key
