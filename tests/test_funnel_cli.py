"""`journeyctl funnel` on the command line: bad input is exit 2 and one clear line, stdout holds
only the product (SQL for --dialect, the table, the JSON), saved funnels and their overrides."""

from __future__ import annotations

import json

import pytest
import sqlglot

from journeyctl.dialects import ALIASES, DIALECTS, get_dialect
from tests.test_funnel import Facts, ev
from tests.warehouses import journeyctl

SAVED = """
[funnels.checkout]
steps = ["A", "B|C"]
window = "30m"
exclude = "X"
interval = "week"

[funnels.typo]
steps = ["A", "B"]
windw = "1h"
"""


@pytest.fixture
def facts(tmp_path) -> Facts:
    f = Facts(tmp_path)
    f.config.write_text(f.config.read_text() + SAVED)
    f.load([ev("v", 0, "e1", "A"), ev("v", 5, "e2", "X"), ev("v", 10, "e3", "B"),
            ev("w", 0, "e4", "A"), ev("w", 20, "e5", "C"), ev("w", 50, "e6", "B")])
    return f


BAD = {
    "one step, not a saved funnel": ["A"],
    "no steps": [],
    "21 steps": [f"S{i}" for i in range(21)],
    "an empty step": ["A", ""],
    "an empty name in a step": ["A", "B||C"],
    "a window in words": ["A", "B", "--window", "14 days"],
    "a zero window": ["A", "B", "--window", "0s"],
    "a negative window": ["A", "B", "--window", "-1h"],
    "an unknown order": ["A", "B", "--order", "sorted"],
    "an unknown unit": ["A", "B", "--per", "user"],
    "an unknown interval": ["A", "B", "--interval", "year"],
    "exclude with strict": ["A", "B", "--order", "strict", "--exclude", "X"],
    "exclude with any": ["A", "B", "--order", "any", "--exclude", "X"],
    "an exclusion range outside the funnel": ["A", "B", "--exclude", "X@1-3"],
    "an exclusion range from step 0": ["A", "B", "--exclude", "X@0-2"],
    "an exclusion range with A = B": ["A", "B", "C", "--exclude", "X@2-2"],
    "an exclusion range with A > B": ["A", "B", "C", "--exclude", "X@3-1"],
    "overlapping steps in any order": ["A|B", "B", "--order", "any"],
    "since not before until": ["A", "B", "--since", "2024-04-01", "--until", "2024-04-01"],
    "a since that is no date": ["A", "B", "--since", "yesterday"],
    "an unknown saved funnel": ["nosuch"],
    "a misspelt key in a saved funnel": ["typo"],
    "an unknown dialect": ["A", "B", "--dialect", "oracle"],
}


@pytest.mark.parametrize("args", BAD.values(), ids=BAD.keys())
def test_bad_input_is_exit_2_and_one_clear_line(facts, args):
    result = journeyctl(facts.config, "funnel", *args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: ") and len(lines) <= 2 and "Traceback" not in result.stderr
    assert len(lines) == 1 or lines[1].startswith("  hint: ")


def test_a_misspelt_key_suggests_the_right_one(facts):
    assert "did you mean 'window'" in journeyctl(facts.config, "funnel", "typo").stderr


@pytest.mark.parametrize("dialect", [*DIALECTS, *ALIASES])
def test_dialect_prints_one_statement_and_nothing_else(facts, dialect):
    for extra in ([], ["--interval", "week", "--exclude", "X@1-2", "--since", "2024-01-01"]):
        result = journeyctl(facts.config, "funnel", "A", "it's \\ ☕|B", "C", "--dialect", dialect,
                            "--schema", "analytics", *extra)
        assert result.exit_code == 0 and result.stderr == ""
        statements = sqlglot.parse(result.stdout, read=get_dialect(dialect).name)
        assert len([s for s in statements if s is not None]) == 1
        columns = [c.lower() for c in statements[0].named_selects]  # Snowflake's are upper-case
        assert columns == (["period", "entered", "converted", "conversion"] if extra else
                           ["step", "units", "conversion_from_first", "conversion_from_previous",
                            "median_seconds_from_previous", "avg_seconds_from_previous",
                            "median_seconds_from_first", "avg_seconds_from_first"])


def test_json_has_exactly_the_issues_shape(facts):
    result = journeyctl(facts.config, "funnel", "A", "B", "--interval", "day", "--format", "json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert list(out) == ["steps", "time_to_convert", "trend"]
    assert list(out["steps"][0]) == ["step", "units", "conversion_from_first", "conversion_from_previous",
                                     "median_seconds_from_previous", "avg_seconds_from_previous",
                                     "median_seconds_from_first", "avg_seconds_from_first"]
    assert list(out["time_to_convert"]) == ["units", "median_seconds", "avg_seconds"]
    assert out["trend"] == [{"period": "2024-03-31", "entered": 2, "converted": 2, "conversion": 1.0}]
    assert out["steps"][1]["median_seconds_from_previous"] == 1800.0  # (600 + 3000) / 2
    assert list(json.loads(journeyctl(facts.config, "funnel", "A", "B", "--format", "json").stdout)) == [
        "steps", "time_to_convert"]


def test_text_shows_steps_time_to_convert_and_trend(facts):
    result = journeyctl(facts.config, "funnel", "A", "B", "--interval", "week")
    assert result.exit_code == 0 and result.stderr == ""
    assert "B" in result.stdout and "time to convert" in result.stdout and "2024-03-25" in result.stdout


def test_a_saved_funnel_runs_and_options_override_it(facts):
    saved = json.loads(journeyctl(facts.config, "funnel", "checkout", "--format", "json").stdout)
    assert [s["units"] for s in saved["steps"]] == [1, 1]  # v: X between A and B; w: C at 20m
    assert saved["trend"][0]["period"] == "2024-03-25"
    wider = json.loads(journeyctl(facts.config, "funnel", "checkout", "--exclude", "Y", "--window", "1h",
                                  "--interval", "day", "--format", "json").stdout)
    assert [s["units"] for s in wider["steps"]] == [2, 2] and wider["trend"][0]["period"] == "2024-03-31"


def test_list_shows_the_saved_funnels(facts):
    result = journeyctl(facts.config, "funnel", "--list")
    assert result.exit_code == 0 and result.stdout.splitlines()[0] == "checkout"


def test_a_name_never_seen_is_a_note_on_stderr(facts):
    result = journeyctl(facts.config, "funnel", "A", "Bb", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["steps"][1]["units"] == 0
    assert result.stderr == "note: event 'Bb' never occurs in dbt_track_facts; closest: 'B'\n"


def test_no_journey_tables_says_run_builds_them(tmp_path):
    config = tmp_path / "journeyctl.toml"
    config.write_text(f'[targets.local]\ntype = "duckdb"\npath = "{tmp_path}/empty.duckdb"\n')
    result = journeyctl(config, "funnel", "A", "B")
    assert result.exit_code == 2 and "journeyctl run" in result.stderr


def test_out_writes_a_page_that_opens_offline(facts, tmp_path):
    page = tmp_path / "funnel.html"
    result = journeyctl(facts.config, "funnel", "A", "B|C", "--interval", "day", "--out", str(page))
    assert result.exit_code == 0, result.stderr
    text = page.read_text()
    assert "Plotly.newPlot" in text and "chart-steps" in text and "chart-trend" in text
    assert "http" not in text.split("<script>")[0]


@pytest.mark.parametrize("key", ['per = ["visitor"]', 'exclude = 3', 'order = 1', 'window = 14', 'steps = "A"'])
def test_a_saved_funnel_with_a_bad_value_is_exit_2(facts, key):
    facts.config.write_text(facts.config.read_text() + f'\n[funnels.bad]\nsteps = ["A", "B"]\n{key}\n'
                            .replace('steps = ["A", "B"]\nsteps', 'steps'))
    result = journeyctl(facts.config, "funnel", "bad")
    assert result.exit_code == 2 and result.stderr.startswith("error: ") and "Traceback" not in result.stderr
