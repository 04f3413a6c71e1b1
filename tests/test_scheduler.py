"""Concurrent stages: independent steps run side by side on their own connections, in dependency
order; the first failure starts nothing more and waits for the running steps."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from journeyctl.config import Target
from journeyctl.connectors import connect
from journeyctl.errors import ConfigError
from journeyctl.render import Step
from journeyctl.scheduler import run_steps
from tests.helpers import duckdb_connector, load, params, read_tables
from tests import edge_events as E


def steps(graph: dict[str, tuple[str, ...]]) -> list[Step]:
    return [Step(stage=name, description="", inputs=[], published=False, template=Path("x.sql"),
                 table=params().table_for(name), published_table=params().table_for(name),
                 statements=[], after=after) for name, after in graph.items()]


GRAPH = {"a": (), "b": ("a",), "c": ("a",), "d": ("b", "c")}


def test_independent_steps_run_at_the_same_time_each_on_its_own_connection(tmp_path):
    both = threading.Barrier(2, timeout=10)  # b and c must be running together to pass it
    seen: dict[str, object] = {}

    def build(on, step):
        seen[step.stage] = on.connection
        if step.stage in ("b", "c"):
            both.wait()
        if step.stage == "d":
            assert {"a", "b", "c"} <= set(seen)

    with duckdb_connector(tmp_path / "j.duckdb") as c:
        run_steps(c, steps(GRAPH), build, concurrency=2)
    assert seen.keys() == set(GRAPH) and seen["b"] is not seen["c"]


def test_one_at_a_time_keeps_the_plan_order(tmp_path):
    order = []
    with duckdb_connector(tmp_path / "j.duckdb") as c:
        run_steps(c, steps(GRAPH), lambda on, step: order.append(step.stage), concurrency=1)
    assert order == ["a", "b", "c", "d"]


def test_a_failure_starts_nothing_more_and_waits_for_the_running_steps(tmp_path):
    started, finished = [], []
    c_running = threading.Event()

    def build(on, step):
        started.append(step.stage)
        if step.stage == "c":
            c_running.set()
            threading.Event().wait(0.3)  # still running when b fails
            finished.append("c")
        if step.stage == "b":
            c_running.wait(10)
            raise RuntimeError("b failed")

    with duckdb_connector(tmp_path / "j.duckdb") as c, pytest.raises(RuntimeError, match="b failed"):
        run_steps(c, steps(GRAPH), build, concurrency=2)
    assert "d" not in started and finished == ["c"]  # c was waited for, d never started


def test_concurrent_runs_build_the_same_tables_as_one_at_a_time(tmp_path):
    with duckdb_connector(tmp_path / "a.duckdb") as a, duckdb_connector(tmp_path / "b.duckdb") as b:
        load(a, "tracks", E.COLUMNS, E.ROWS)
        load(b, "tracks", E.COLUMNS, E.ROWS)
        from journeyctl.preflight import preflight
        from journeyctl.runner import execute_run, plan_run
        execute_run(a, plan_run(a, preflight(a, params())), concurrency=1)
        execute_run(b, plan_run(b, preflight(b, params())), concurrency=4)
        assert read_tables(a, params()) == read_tables(b, params())


def test_concurrency_is_validated_per_engine(tmp_path):
    with pytest.raises(ConfigError, match="concurrency must be at least 1"):
        connect(Target("t", "duckdb", {"concurrency": 0}, tmp_path))
    with pytest.raises(ConfigError, match="at most 1 on clickhouse"):
        connect(Target("t", "clickhouse", {"path": "x", "concurrency": 2}, tmp_path))
    assert connect(Target("t", "duckdb", {}, tmp_path)).concurrency == 2
    assert connect(Target("t", "duckdb", {"concurrency": 3}, tmp_path)).concurrency == 3
