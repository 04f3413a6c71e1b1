"""The plan cache: a hit is the plan a fresh render gives; any changed input is a miss."""

from __future__ import annotations

import shutil

import pytest

from journeyctl import plancache, stages
from journeyctl.dialects import get_dialect
from journeyctl.render import render_plan
from tests.helpers import params


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    folder.mkdir()
    monkeypatch.setattr(plancache, "cache_dir", lambda: folder)
    return folder


@pytest.fixture
def templates(tmp_path, monkeypatch):
    """A private copy of sql_templates/ to edit."""
    root = tmp_path / "templates"
    shutil.copytree(stages.template_dir(), root)
    monkeypatch.setattr(stages, "template_dir", lambda: root)
    stages._environment.cache_clear()
    yield root
    stages._environment.cache_clear()


def refuse_to_render(*_args):
    raise AssertionError("rendered although the plan was cached")


def test_a_hit_is_read_back_without_rendering(cache, monkeypatch):
    snowflake = get_dialect("snowflake")
    fresh = plancache.cached_render_plan(params(), snowflake, ("dbt_track_facts",))
    assert fresh.script() == render_plan(params(), snowflake, ("dbt_track_facts",)).script()
    assert len(list(cache.iterdir())) == 1

    monkeypatch.setattr(plancache, "render_plan", refuse_to_render)
    again = plancache.cached_render_plan(params(), snowflake, ("dbt_track_facts",))
    assert again.script() == fresh.script() and again.as_json() == fresh.as_json()
    assert again.dialect is snowflake and again.params == params()


@pytest.mark.parametrize("change", [
    lambda p, d, s: (params(idle_timeout_minutes=45), d, s),
    lambda p, d, s: (p, get_dialect("bigquery"), s),
    lambda p, d, s: (p, d, ("dbt_aliases_mapping",)),
])
def test_other_parameters_dialect_or_selection_miss(cache, change):
    first = (params(), get_dialect("duckdb"), ())
    plancache.cached_render_plan(*first)
    other = change(*first)
    assert plancache.cached_render_plan(*other).script() == render_plan(*other).script()
    assert len(list(cache.iterdir())) == 2


def test_render_options_are_part_of_the_key(cache):
    duckdb = get_dialect("duckdb")
    for suffix in ("__a", "__b"):
        plan = plancache.cached_render_plan(params(), duckdb, staging_suffix=suffix)
        assert plan.script() == render_plan(params(), duckdb, staging_suffix=suffix).script()
    assert len(list(cache.iterdir())) == 2


def test_an_edited_template_misses(cache, templates):
    before = plancache.cached_render_plan(params(), get_dialect("duckdb"))
    facts = templates / "dbt_track_facts.sql"
    facts.write_text(facts.read_text().replace("track_sequence_number", "track_sequence_number, timestamp AS t"))
    after = plancache.cached_render_plan(params(), get_dialect("duckdb"))
    assert after.script() != before.script() and '"t"' in after.script()


def test_an_unreadable_entry_is_rendered_afresh(cache):
    plan = plancache.cached_render_plan(params(), get_dialect("redshift"))
    (entry,) = cache.iterdir()
    entry.write_bytes(b"not a plan")
    assert plancache.cached_render_plan(params(), get_dialect("redshift")).script() == plan.script()


def test_a_folder_others_can_write_is_not_used(tmp_path, monkeypatch):
    monkeypatch.setattr(plancache.tempfile, "gettempdir", lambda: str(tmp_path))
    assert plancache.cache_dir() is not None  # made private
    shared = plancache.cache_dir()
    shared.chmod(0o777)
    assert plancache.cache_dir() is None
