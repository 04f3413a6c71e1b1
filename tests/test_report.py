"""The report: numbers computed by hand from the edge events, the terminal layout, and the
HTML page opened in a real headless browser (chromium) to see the Sankey diagram drawn.

The edge events make six sessions (tests/edge_events.py):
  1 - anon-a  Page Viewed → Product Viewed            12:00 → 12:30   (30 min)
  2 - anon-a  Product Added → Cart Viewed             13:00:00.000001 → 13:00:59
  3 - anon-a  Checkout Started → Order Completed      13:31 → 13:31   (0 s)
  1 - user-1  Signed Up → Order Completed → Page Viewed   09:05 → 09:20
  1 - user-2  Page Viewed                                 09:00   (0 s)
  2 - user-2  Logged In → Product Viewed → Cart Viewed    10:00 → 10:20
"""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from journeyctl.cli import cli
from journeyctl.dialects import DIALECTS, get_dialect
from journeyctl.errors import ConfigError
from journeyctl.render import render_query
from journeyctl.report import END, collect, format_text, render_html, sankey_figure, write_html
from journeyctl.stages import template_dir
from tests import browser
from tests import edge_events as E
from tests.helpers import duckdb_connector, edge_events_folder, load, params, run_pipeline

REPORT_QUERIES = sorted(p.stem for p in (template_dir() / "report").glob("*.sql"))
EXTRA = {"top": 10, "cap": 10}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "j.duckdb"
    with duckdb_connector(path) as connector:
        load(connector, "tracks", E.COLUMNS, E.ROWS)
        run_pipeline(connector, params())
        return collect(connector, params(), top=10)


def test_headline_numbers(data):
    assert (data.events, data.visitors, data.sessions) == (13, 3, 6)


def test_identity_figures(data):
    # user-2 stands for itself, dev-1 and dev-2; user-1 and anon-a for themselves
    assert data.identity == {"aliases": 5, "visitors": 3, "stitched_visitors": 1, "most_ids": 3}


def test_top_journeys_are_session_openings(data):
    assert sorted(data.journeys, key=str) == sorted([
        (["Page Viewed", "Product Viewed", None, None, None], 1),
        (["Product Added", "Cart Viewed", None, None, None], 1),
        (["Checkout Started", "Order Completed", None, None, None], 1),
        (["Signed Up", "Order Completed", "Page Viewed", None, None], 1),
        (["Page Viewed", None, None, None, None], 1),
        (["Logged In", "Product Viewed", "Cart Viewed", None, None], 1),
    ], key=str)


def test_transitions_are_consecutive_events_of_a_session(data):
    assert sorted(data.transitions) == [
        ("Checkout Started", "Order Completed", 1), ("Logged In", "Product Viewed", 1),
        ("Order Completed", "Page Viewed", 1), ("Page Viewed", "Product Viewed", 1),
        ("Product Added", "Cart Viewed", 1), ("Product Viewed", "Cart Viewed", 1),
        ("Signed Up", "Order Completed", 1),
    ]


def test_distributions(data):
    assert data.sessions_per_visitor == [(1, 1), (2, 1), (3, 1)]  # user-1, user-2, anon-a
    assert data.events_per_session == [(1, 1), (2, 3), (3, 2)]
    assert data.durations == [("0 s", 2), ("under 1 min", 1), ("15-30 min", 2), ("30-60 min", 1)]


def test_entry_and_exit_events(data):
    by_event = {e: (entries, exits, n) for e, entries, exits, n in data.entry_exit}
    assert by_event["Page Viewed"] == (2, 2, 3)  # opens a1, b1; ends d1, b1 (a one-event session)
    assert by_event["Cart Viewed"] == (0, 2, 2)
    assert by_event["Logged In"] == (1, 0, 1)
    assert sum(entries for entries, _, _ in by_event.values()) == data.sessions
    assert sum(exits for _, exits, _ in by_event.values()) == data.sessions


def test_text_report(data):
    text = format_text(data)
    for heading in ["top 6 journeys", "top 7 transitions", "sessions per visitor", "session length",
                    "session duration", "entry events", "exit events"]:
        assert heading in text
    assert "Signed Up → Order Completed → Page Viewed" in text
    assert re.search(r"Product Added\s+→\s+Cart Viewed", text)


def test_sankey_nodes_are_steps_and_short_journeys_end(data):
    trace = sankey_figure(data, {})["data"][0]
    labels = trace["node"]["label"]
    assert "step 1: Page Viewed" in labels and "step 3: Page Viewed" in labels
    assert f"step 2: {END}" in labels and f"step 4: {END}" in labels
    assert sum(v for s, v in zip(trace["link"]["source"], trace["link"]["value"])
               if labels[s].startswith("step 1: ")) == data.sessions


def test_html_is_self_contained(data, tmp_path):
    page = render_html(data)
    assert "<script src" not in page and "<link" not in page
    assert "plotly.js v" in page[:5_000_000]  # the library itself, inlined
    assert page.count("</script>") == 2  # plotly.js, then the figures: no early close from the data


def test_every_report_query_renders_for_every_dialect():
    assert {"summary", "top_journeys", "transitions", "sessions_per_visitor", "session_lengths",
            "session_durations", "entry_exit"} <= set(REPORT_QUERIES)
    for dialect in DIALECTS:
        for name in REPORT_QUERIES:
            sql = render_query(f"report/{name}.sql", params(), get_dialect(dialect), **EXTRA)
            assert sql.lstrip().upper().startswith(("SELECT", "WITH")), (dialect, name)


def test_report_on_unbuilt_tables_is_a_usage_error(tmp_path):
    with duckdb_connector(tmp_path / "j.duckdb") as connector:
        with pytest.raises(ConfigError, match="lacks the journey table") as e:
            collect(connector, params())
    assert "journeyctl run" in e.value.hint


def test_report_reads_the_journey_length_from_the_table(tmp_path):
    with duckdb_connector(tmp_path / "j.duckdb") as connector:
        load(connector, "tracks", E.COLUMNS, E.ROWS)
        run_pipeline(connector, params(journey_length=3))
        data = collect(connector, params())  # params say 5: the table says 3
    assert data.journey_length == 3 and all(len(steps) == 3 for steps, _ in data.journeys)


# --- the command line -----------------------------------------------------------

@pytest.fixture
def runner(tmp_path, monkeypatch):
    edge_events_folder(tmp_path, monkeypatch)
    runner = CliRunner()
    assert runner.invoke(cli, ["run"]).exit_code == 0
    return runner


def test_report_command_prints_tables_and_writes_the_page(runner, tmp_path):
    result = runner.invoke(cli, ["report", "--top", "3", "--out", "out/report.html"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert "top 3 journeys" in result.stdout and "top 3 transitions" in result.stdout
    assert (tmp_path / "out" / "report.html").stat().st_size > 1_000_000
    assert "wrote out/report.html" in result.stderr


def test_report_command_json(runner):
    data = json.loads(runner.invoke(cli, ["report", "--format", "json"]).stdout)
    assert data["sessions"] == 6 and len(data["journeys"]) == 6


# --- in a real browser --------------------------------------------------------------

def test_the_page_draws_the_sankey_and_every_chart_in_chromium(data, tmp_path):
    page = write_html(data, tmp_path / "report.html")
    dom = browser.dump_dom(page)
    nodes = len(sankey_figure(data, {})["data"][0]["node"]["label"])
    assert dom.count('class="sankey"') == 1
    assert dom.count('class="sankey-node"') == nodes
    assert dom.count('class="sankey-link"') >= 6
    assert "step 1: Signed Up" in dom  # node labels are drawn as SVG text
    for chart in ["chart-sankey", "chart-transitions", "chart-entry-exit", "chart-sessions-per-visitor",
                  "chart-session-length", "chart-session-duration"]:
        drawn = re.search(rf'<div class="chart js-plotly-plot" id="{chart}"', dom)
        assert drawn, f"{chart} was not drawn"
    assert 'class="heatmaplayer' in dom


def test_the_page_screenshot(data, tmp_path):
    png = browser.screenshot(write_html(data, tmp_path / "report.html"), tmp_path / "report.png")
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(header[16:20], "big") == 1400  # width from --window-size
    assert png.stat().st_size > 30_000  # charts, not a blank page
