"""`journeyctl paths` on DuckDB against the contract: a property test comparing the query with the
plain-Python reference (tests/path_reference.py), hand cases per rule, and the CLI's bad input."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeyctl import api
from journeyctl.analysis.paths_page import sankey_of_edges
from journeyctl.dialects import DIALECTS
from journeyctl.names import TableName
from tests.helpers import duckdb_connector
from tests.path_reference import Fact, reference
from tests.warehouses import journeyctl as cli

FACT_COLUMNS = [("anonymous_id", "VARCHAR"), ("timestamp", "TIMESTAMP"), ("event_id", "VARCHAR"),
                ("event", "VARCHAR"), ("session_id", "VARCHAR"), ("dbt_visitor_id", "VARCHAR"),
                ("track_sequence_number", "BIGINT")]
T0 = datetime(2024, 3, 1, 12, 0, 0)


def write_facts(database: Path, facts: list[Fact], schema: str = "journey") -> None:
    """dbt_track_facts with just these rows (the pipeline is not needed to test what reads it)."""
    with duckdb_connector(database) as c:
        c.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        table = TableName.parse(f"{schema}.dbt_track_facts")
        c.execute(f'DROP TABLE IF EXISTS "{schema}"."dbt_track_facts"')
        c.create_table(table, FACT_COLUMNS)
        c.insert_rows(table, FACT_COLUMNS, [(f.session_id, f.timestamp, f.event_id, f.event, f.session_id,
                                             f.dbt_visitor_id, n) for n, f in enumerate(facts, 1)])


@pytest.fixture(scope="module")
def place(tmp_path_factory) -> Path:
    """A folder with journeyctl.toml whose default target is a DuckDB file there."""
    folder = tmp_path_factory.mktemp("paths")
    (folder / "journeyctl.toml").write_text(
        '[pipeline]\nschema = "journey"\n\n[targets.local]\ntype = "duckdb"\npath = "facts.duckdb"\n\n'
        '[paths.checkout]\nstart = "Cart Viewed"\nend = "Order Completed"\nsteps = 4\n'
        'group = ["Product *=Product"]\n')
    return folder


def paths(place: Path, facts: list[Fact], **options) -> dict:
    write_facts(place / "facts.duckdb", facts)
    return api.paths(config=place / "journeyctl.toml", **options)


# --- the property test ------------------------------------------------------------------

NAMES = ["a", "b", "a_b", "aXb", "a%b", "50% off_banner", "50% offXbanner", "5000 off_banner", "*", "a*",
         "it's", 'say "hi"', "back\\slash", "back\\\\slash", "é", "É", "…", "Z", "zz", "", "ü_%", "a\nb"]
PATTERN_PIECES = st.sampled_from(["a", "b", "_", "%", "*", "**", "'", "\\", "é", " ", "X", "o", "f"])


CONFUSABLE = [[], ["a_b", "aXb", "a%b"], ["50% off_banner", "50% offXbanner", "5000 off_banner"]]
"""Names a LIKE wildcard (`_`, `%`) would confuse: each case has one such set or none."""


def patterns(names: list[str]) -> st.SearchStrategy[str]:
    """Patterns that match some names and miss others: a name; a name with up to two characters
    turned into `*`, `_` or `%` (which must match only themselves), ending in `*` or not; more
    often, a name with `*` before, after or for its middle character; or a short text of wildcards
    and special characters."""
    def near(name: str) -> st.SearchStrategy[str]:
        change = st.tuples(st.integers(0, max(len(name) - 1, 0)), st.sampled_from(["*", "_", "%"]))
        return st.tuples(st.lists(change, max_size=2), st.sampled_from(["", "*"])).map(
            lambda h: "".join(dict(h[0]).get(i, c) for i, c in enumerate(name)) + h[1])
    def starred(name: str) -> st.SearchStrategy[str]:
        return st.sampled_from([f"{name}*", f"*{name}", f"{name[:len(name) // 2]}*{name[len(name) // 2 + 1:]}"])
    return st.one_of(st.sampled_from(names), st.sampled_from(names).flatmap(near),
                     st.sampled_from(names).flatmap(starred), st.sampled_from(names).flatmap(starred),
                     st.lists(PATTERN_PIECES, min_size=1, max_size=4).map("".join)).filter(bool)


@st.composite
def cases(draw):
    confusable = draw(st.sampled_from(CONFUSABLE))
    names = list(dict.fromkeys(draw(st.lists(st.sampled_from(NAMES), min_size=2, max_size=5)) + confusable))
    n_sessions = draw(st.integers(1, 4))
    visitor_of = {f"s{s}": f"v{draw(st.integers(0, 2))}" for s in range(n_sessions)}
    facts = []
    for i in range(draw(st.integers(0, 40) | st.integers(8, 40))):
        session = f"s{draw(st.integers(0, n_sessions - 1))}"
        facts.append(Fact(session, visitor_of[session], T0 + timedelta(minutes=draw(st.integers(0, 8))),
                          draw(st.sampled_from(["e1", "e2", "E", "é", "_"])) + f"{i:03d}"[::-1],
                          draw(st.sampled_from(names)) if i % 7 else None))
    pattern = patterns(names)
    group = draw(st.lists(st.tuples(pattern, st.sampled_from([*names, "G", "H"]).filter(bool)), max_size=3))
    items = [*names, *(g for _, g in group), "never"]
    # anchors that occur (unless grouped or excluded away); ends rather among the later events
    present = [f.event for f in sorted(facts, key=lambda f: (f.timestamp, f.event_id)) if f.event]
    start = st.sampled_from(present) | st.sampled_from(items) if present else st.sampled_from(items)
    end = st.sampled_from(present[len(present) // 2:]) | st.sampled_from(items) if present else start
    options = dict(
        per=draw(st.sampled_from(["session", "visitor"])),
        exclude=draw(st.lists(pattern, max_size=2)) + draw(st.sampled_from([[], *(
            [f"{name}*", f"*{name}"] for name in confusable[:1])])),
        group=[f"{p}={n}" if "=" not in n else (p, n) for p, n in group],
        keep_repeats=draw(st.booleans()),
        top=draw(st.integers(1, 6)), min_weight=draw(st.sampled_from([1, 1, 1, 2, 3])),
        edge_limit=draw(st.integers(1, 8)),
    )
    anchors = draw(st.sampled_from(["none", "start", "end", "both"]))
    if anchors in ("start", "both"):
        options["start"] = draw(start.filter(bool))
    if anchors in ("end", "both"):
        options["end"] = draw(end.filter(bool))
    options["steps"] = draw(st.integers(3 if anchors == "both" else 2, 6 if draw(st.booleans()) else 20))
    if draw(st.booleans()):
        since, until = sorted(draw(st.lists(st.integers(0, 9), min_size=2, max_size=2, unique=True)))
        options["since"] = None if draw(st.booleans()) else (T0 + timedelta(minutes=since)).isoformat()
        options["until"] = (T0 + timedelta(minutes=until)).isoformat()
    return facts, options


def as_reference(options: dict) -> dict:
    ref = dict(options)
    ref["group"] = [tuple(r.rsplit("=", 1)) if isinstance(r, str) else r for r in options["group"]]
    for bound in ("since", "until"):
        ref[bound] = datetime.fromisoformat(options[bound]) if options.get(bound) else None
    return ref


@given(cases())
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_paths_match_the_reference(place, case):
    facts, options = case
    assert paths(place, facts, **options) == reference(facts, **as_reference(options))


# --- hand cases, one rule each ----------------------------------------------------------

def session(*events: str | None, unit: str = "s1", visitor: str = "v1", minute: int = 0) -> list[Fact]:
    return [Fact(unit, visitor, T0 + timedelta(minutes=minute + i), f"{unit}-{i:02d}", e)
            for i, e in enumerate(events)]


def items(result: dict) -> list[list[str]]:
    return [p["items"] for p in result["paths"]]


def test_repeats_collapse_unless_kept(place):
    facts = session("A", "A", "B", "B", "A")
    assert items(paths(place, facts)) == [["A", "B", "A"]]
    assert items(paths(place, facts, keep_repeats=True)) == [["A", "A", "B", "B", "A"]]


def test_repeats_collapse_after_exclusions_and_groups(place):
    facts = session("P1", "x", "P2", "B")
    assert items(paths(place, facts, exclude=["x"], group=["P*=P"])) == [["P", "B"]]


def test_percent_and_underscore_are_literal(place):
    facts = [*session("50% off_banner", "end", unit="s1"), *session("50% offXbanner", "end", unit="s2"),
             *session("5000 off_banner", "end", unit="s3")]
    result = paths(place, facts, group=["50% off_banner=promo"])
    assert sorted(items(result)) == [["50% offXbanner", "end"], ["5000 off_banner", "end"], ["promo", "end"]]
    assert items(paths(place, facts, exclude=["50% off_*"])) == [["50% offXbanner", "end"],
                                                                 ["5000 off_banner", "end"], ["end"]]
    assert items(paths(place, facts, exclude=["*_*"])) == [["end"], ["50% offXbanner", "end"]]


def test_star_matches_any_run_and_the_whole_name(place):
    facts = session("Product Viewed", "Product", "A Product", "Cart\\Viewed", "it's")
    result = paths(place, facts, group=["Product*=P", "*\\*=S", "it'*=Q"], keep_repeats=True)
    assert items(result) == [["P", "P", "A Product", "S", "Q"]]


def test_first_matching_group_wins(place):
    facts = session("ab", "b")
    assert items(paths(place, facts, group=["a*=first", "*b=second"])) == [["first", "second"]]


def test_null_names_take_no_part(place):
    assert items(paths(place, session("A", None, "A", "B"))) == [["A", "B"]]


def test_equal_timestamps_order_by_event_id(place):
    facts = [Fact("s1", "v1", T0, "b", "second"), Fact("s1", "v1", T0, "a", "first")]
    assert items(paths(place, facts)) == [["first", "second"]]


def test_start_is_the_first_occurrence(place):
    facts = session("x", "A", "y", "A", "z", "w")
    assert items(paths(place, facts, start="A", steps=3)) == [["A", "y", "A"]]


def test_end_counts_back_from_the_first_end(place):
    result = paths(place, session("a", "b", "c", "B", "d", "B"), end="B", steps=3)
    assert items(result) == [["b", "c", "B"]]
    assert [(e["from_position"], e["to_position"]) for e in result["edges"]] == [(-2, -1), (-1, 0)]


def test_short_end_paths_keep_b_last_at_zero(place):
    facts = [*session("a", "B", unit="s1"), *session("x", "y", "z", "B", unit="s2")]
    result = paths(place, facts, end="B", steps=4)
    assert items(result) == [["a", "B"], ["x", "y", "z", "B"]]
    assert {(e["from"], e["from_position"]) for e in result["edges"]} == {("a", -1), ("x", -3), ("y", -2),
                                                                           ("z", -1)}


def test_start_and_end_with_ellipsis(place):
    facts = [*session("A", "1", "2", "3", "4", "B", unit="s1"), *session("A", "1", "B", unit="s2"),
             *session("B", "A", "1", "2", "B", unit="s3"), *session("A", "1", unit="s4")]
    result = paths(place, facts, start="A", end="B", steps=4)
    assert result["units"] == 3
    assert items(result) == [["A", "1", "2", "B"], ["A", "1", "B"], ["A", "1", "…", "B"]]


def test_same_start_and_end_is_the_next_occurrence(place):
    assert items(paths(place, session("A", "x", "A", "A"), start="A", end="A", steps=5,
                       keep_repeats=True)) == [["A", "x", "A"]]


def test_units_without_the_anchor_have_no_path(place):
    facts = [*session("A", "B", unit="s1"), *session("C", unit="s2")]
    assert paths(place, facts, start="A")["units"] == 1
    notes: list[str] = []
    write_facts(place / "facts.duckdb", facts)
    empty = api.paths(config=place / "journeyctl.toml", report=notes.append, start="Bb")
    assert empty == {"units": 0, "paths": [], "edges": []}
    assert notes == ["note: anchor 'Bb' never occurs in the cleaned events; closest: 'B'"]


def test_ranking_ties_by_items_a_prefix_first(place):
    facts = [*session("b", "a", unit="s1"), *session("a", unit="s2"), *session("a", "b", unit="s3"),
             *session("a", "b", unit="s4"), *session("É", unit="s5"), *session("Z", unit="s6")]
    assert items(paths(place, facts)) == [["a", "b"], ["Z"], ["a"], ["b", "a"], ["É"]]


def test_edges_ranked_limited_and_weighted(place):
    facts = [*session("a", "b", "c", unit="s1"), *session("a", "b", unit="s2"), *session("x", "b", unit="s3")]
    result = paths(place, facts, min_weight=1, edge_limit=3)
    assert [(e["from_position"], e["from"], e["to"], e["units"]) for e in result["edges"]] == [
        (1, "a", "b", 2), (1, "x", "b", 1), (2, "b", "c", 1)]
    assert len(paths(place, facts, min_weight=2)["edges"]) == 1


def test_date_range_drops_events_before_cleaning(place):
    facts = session("A", "B", "A", "C")  # minutes 0..3
    result = paths(place, facts, since=(T0 + timedelta(minutes=1)).isoformat(),
                   until=(T0 + timedelta(minutes=3)).isoformat())
    assert items(result) == [["B", "A"]]


def test_per_visitor_joins_sessions(place):
    facts = [*session("A", unit="s1", visitor="v1"), *session("B", unit="s2", visitor="v1", minute=5)]
    assert items(paths(place, facts, per="visitor")) == [["A", "B"]]
    assert paths(place, facts)["units"] == 2


def test_saved_paths_and_overrides(place):
    write_facts(place / "facts.duckdb", session("Cart Viewed", "Product Added", "Product Viewed", "y", "Product",
                                                "x", "Order Completed"))
    saved = api.paths("checkout", config=place / "journeyctl.toml")
    assert saved["paths"][0]["items"] == ["Cart Viewed", "Product", "…", "Order Completed"]
    assert api.paths("checkout", config=place / "journeyctl.toml", steps=5)["paths"][0]["items"] == [
        "Cart Viewed", "Product", "y", "…", "Order Completed"]


# --- the CLI ------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--steps", "1"], "--steps must be a whole number from 2 to 20"),
    (["--steps", "21"], "--steps must be a whole number from 2 to 20"),
    (["--start", "A", "--end", "B", "--steps", "2"], "at least 3 with both --start and --end"),
    (["--exclude", ""], "--exclude pattern must be a non-empty text"),
    (["--group", "=Name"], "the pattern of --group"),
    (["--group", "P*="], "the name of --group"),
    (["--group", "Product"], "has no '='"),
    (["--top", "0"], "--top must be a whole number at least 1"),
    (["--min-weight", "0"], "--min-weight must be"),
    (["--edge-limit", "0"], "--edge-limit must be"),
    (["--since", "2024-03-02", "--until", "2024-03-01"], "must be before --until"),
    (["--since", "March"], "--since must be an ISO date"),
    (["--per", "user"], "--per must be one of"),
    (["nope"], "no saved path named 'nope'"),
    (["--start", ""], "--start must be a non-empty text"),
])
def test_bad_input_is_one_line_and_exit_2(place, args, message):
    write_facts(place / "facts.duckdb", session("A", "B"))
    result = cli(place / "journeyctl.toml", "paths", *args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert message in result.stderr.splitlines()[0] and "Traceback" not in result.stderr


def test_misspelt_saved_key_is_a_usage_error(tmp_path):
    (tmp_path / "journeyctl.toml").write_text('[paths.x]\nstart = "A"\nstesp = 3\n')
    result = cli(tmp_path / "journeyctl.toml", "paths", "x", "--dialect", "duckdb")
    assert result.exit_code == 2 and "unknown key 'stesp' in [paths.x]" in result.stderr
    assert "did you mean 'steps'" in result.stderr


def test_unbuilt_tables_say_run_first(tmp_path):
    (tmp_path / "journeyctl.toml").write_text('[targets.l]\ntype = "duckdb"\npath = "empty.duckdb"\n')
    result = cli(tmp_path / "journeyctl.toml", "paths")
    assert result.exit_code == 2 and "journeyctl run" in result.stderr


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@pytest.mark.parametrize("edges", [False, True])
def test_dialect_prints_one_statement_that_parses(place, dialect, edges):
    args = ["paths", "--dialect", dialect, "--start", "50% off_'\\", "--end", "É", "--steps", "4",
            "--exclude", "a_*%", "--group", "x*=y", "--since", "2024-01-01", "--schema", "an"]
    result = cli(place / "journeyctl.toml", *args, *(["--edges"] if edges else []))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    statements = [s for s in sqlglot.parse(result.stdout, read=dialect) if s is not None]
    assert len(statements) == 1
    columns = [c.lower() for c in statements[0].named_selects]  # Snowflake's are upper-case
    assert columns == (["from_position", "from_item", "to_position", "to_item", "units"] if edges
                       else ["item_1", "item_2", "item_3", "item_4", "units"])


def test_the_printed_queries_give_the_api_rows(place):
    facts = [*session("a", "b", "a", "c", unit="s1"), *session("a", "b", unit="s2"),
             *session("a_b", "c", unit="s3")]
    write_facts(place / "facts.duckdb", facts)
    options = ["--start", "a", "--steps", "3"]
    expected = api.paths(config=place / "journeyctl.toml", start="a", steps=3)
    with duckdb_connector(place / "facts.duckdb") as c:
        top = c.query(cli(place / "journeyctl.toml", "paths", "--dialect", "duckdb", *options).stdout)
        edges = c.query(cli(place / "journeyctl.toml", "paths", "--dialect", "duckdb", "--edges", *options).stdout)
    assert [{"items": [i for i in row[:-1] if i is not None], "units": row[-1]} for row in top] == expected["paths"]
    assert [{"from_position": a, "from": f, "to_position": b, "to": t, "units": n}
            for a, f, b, t, n in edges] == expected["edges"]


def test_text_and_json_output(place):
    write_facts(place / "facts.duckdb", [*session("Page Viewed", "Product Viewed", unit="s1"),
                                         *session("Page Viewed", unit="s2")])
    result = cli(place / "journeyctl.toml", "paths", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout) == {
        "units": 2, "paths": [{"items": ["Page Viewed"], "units": 1},
                              {"items": ["Page Viewed", "Product Viewed"], "units": 1}],
        "edges": [{"from_position": 1, "from": "Page Viewed", "to_position": 2, "to": "Product Viewed",
                   "units": 1}]}
    text = cli(place / "journeyctl.toml", "paths").stdout
    assert "Page Viewed → Product Viewed  1 (50.0%)" in text
    assert "1: Page Viewed → 2: Product Viewed  1" in text


def test_anchor_never_found_notes_the_closest_items_on_stderr(place):
    write_facts(place / "facts.duckdb", session("Product Viewed", "Order Completed"))
    result = cli(place / "journeyctl.toml", "paths", "--start", "Product Viewd", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout) == {"units": 0, "paths": [], "edges": []}
    assert "closest: 'Product Viewed'" in result.stderr


def test_out_writes_a_sankey_of_the_edges_beside_the_top_paths(place, tmp_path):
    write_facts(place / "facts.duckdb", [*session("a", "b<", "c", unit="s1"), *session("a", "b<", unit="s2")])
    page = tmp_path / "paths.html"
    result = cli(place / "journeyctl.toml", "paths", "--end", "b<", "--out", str(page))
    assert result.exit_code == 0 and f"wrote {page}" in result.stderr
    text = page.read_text()
    assert "<script src" not in text and text.count("</script>") == 2
    assert "<td>a → b&lt;</td>" in text
    figure = sankey_of_edges(json.loads(cli(place / "journeyctl.toml", "paths", "--end", "b<",
                                            "--format", "json").stdout), "session")["data"][0]
    assert figure["node"]["label"] == ["-1: a", "0: b<"] and figure["link"]["value"] == [2]
    assert figure["valuesuffix"] == " sessions"


def test_list_saved_paths(place):
    result = cli(place / "journeyctl.toml", "paths", "--list")
    assert result.exit_code == 0 and result.stdout.startswith("checkout")
