"""Rendering: golden SQL per dialect and stage, an independent parser, and loud refusals.

Golden files live in tests/golden/<dialect>/<stage>.sql so that every change to the
generated SQL shows in review. Regenerate with: JOURNEYCTL_UPDATE_GOLDEN=1 pytest tests/test_render.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlfluff

from journeyctl.dialects import DIALECTS, get_dialect
from journeyctl.errors import ConfigError, RenderError
from journeyctl.render import render_plan
from journeyctl.stages import render_template
from tests.helpers import params

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("JOURNEYCTL_UPDATE_GOLDEN") == "1"
SQLFLUFF_DIALECT = {"duckdb": "duckdb", "bigquery": "bigquery", "snowflake": "snowflake",
                    "redshift": "redshift"}


def golden_cases():
    for dialect in DIALECTS:
        plan = render_plan(params(source="rudder.tracks"), get_dialect(dialect))
        for step in plan.steps:
            yield pytest.param(dialect, step.stage, ";\n".join(step.statements) + ";\n",
                               id=f"{dialect}-{step.stage}")


@pytest.mark.parametrize("dialect,stage,sql", list(golden_cases()))
def test_golden_sql(dialect, stage, sql):
    path = GOLDEN / dialect / f"{stage}.sql"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql)
    assert path.exists(), f"no golden file {path}; run with JOURNEYCTL_UPDATE_GOLDEN=1"
    assert sql == path.read_text()


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_script_parses_with_sqlfluff(dialect):
    script = render_plan(params(source="rudder.tracks"), get_dialect(dialect)).script()
    parsed = sqlfluff.parse(script, dialect=SQLFLUFF_DIALECT[dialect])
    text = str(parsed)
    assert "unparsable" not in text


def test_script_is_self_contained_and_ordered():
    script = render_plan(params(), get_dialect("snowflake")).script()
    stages = [line.split(": ")[1] for line in script.splitlines() if line.startswith("-- stage: ")]
    assert stages == ["deduplicated_tracks", "dbt_aliases_mapping", "journey_events", "dbt_mapped_tracks",
                      "dbt_session_tracks", "dbt_track_facts", "dbt_tracks_flow"]
    assert script.index('CREATE SCHEMA IF NOT EXISTS "JOURNEY"') < script.index("-- stage:")
    cleanup = script.split("-- cleanup")[1]
    assert 'DROP TABLE IF EXISTS "JOURNEY"."JOURNEY_EVENTS"' in cleanup
    assert 'DROP TABLE IF EXISTS "JOURNEY"."DEDUPLICATED_TRACKS"' in cleanup


def test_snowflake_identifiers_are_upper_case_and_quoted():
    script = render_plan(params(source="TRACKS"), get_dialect("sf")).script()
    assert 'FROM "TRACKS"' in script and '"TIMESTAMP"' in script and '"timestamp"' not in script


@pytest.mark.parametrize("dialect,gap", [
    ("bigquery", ",MICROSECOND)"), ("snowflake", "TIMESTAMPDIFF(MICROSECOND,"),
    ("redshift", "DATEDIFF(MICROSECOND,"), ("duckdb", "DATE_DIFF('MICROSECOND',"),
])
def test_exact_microsecond_gap_per_dialect(dialect, gap):
    steps = render_plan(params(), get_dialect(dialect), ("journey_events",)).steps
    sql = "".join(next(s for s in steps if s.stage == "journey_events").statements)
    assert gap in "".join(sql.split())


def test_redshift_has_no_create_or_replace():
    for sql in (s for step in render_plan(params(), get_dialect("rs")).steps for s in step.statements):
        assert "CREATE OR REPLACE" not in sql
    first = render_plan(params(), get_dialect("rs")).steps[0].statements
    assert first[0].startswith("DROP TABLE IF EXISTS") and first[1].startswith("CREATE TABLE")


def test_unknown_dialect_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="valid dialects: duckdb, bigquery, snowflake, redshift"):
        get_dialect("oracle")


def test_journey_length_changes_flow_columns():
    plan = render_plan(params(journey_length=3), get_dialect("duckdb"), ("dbt_tracks_flow",))
    flow = plan.steps[-1].statements[0]
    assert '"event_3"' in flow and '"event_4"' not in flow


def test_function_unknown_to_sqlglot_is_refused(tmp_path, monkeypatch):
    from journeyctl import render, stages

    (tmp_path / "bad_stage.sql").write_text("SELECT epoch_us(timestamp) AS x FROM {{ source() }}")
    monkeypatch.setattr(stages, "template_dir", lambda: tmp_path)
    stages._environment.cache_clear()
    with pytest.raises(RenderError, match=r"epoch_us\(\) is not known to sqlglot"):
        render.render_plan(params(), get_dialect("snowflake"))
    stages._environment.cache_clear()


def test_template_syntax_error_names_file_and_line(tmp_path, monkeypatch):
    from journeyctl import stages

    (tmp_path / "broken.sql").write_text("SELECT 1\n{% if %}\n")
    monkeypatch.setattr(stages, "template_dir", lambda: tmp_path)
    stages._environment.cache_clear()
    with pytest.raises(RenderError, match=r"broken.sql:2"):
        render_template("broken.sql", {})
    stages._environment.cache_clear()
