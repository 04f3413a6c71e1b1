"""The connector registry: built-in types, a missing client named by its extra, plug-ins."""

from __future__ import annotations

import builtins
from importlib.metadata import EntryPoint

import pytest

from journeyctl import connectors
from journeyctl.config import Target
from journeyctl.connectors.duckdb import DuckDBConnector
from journeyctl.errors import ConfigError


def test_builtin_types():
    assert {"bigquery", "clickhouse", "duckdb", "postgres", "redshift", "snowflake"} <= \
        set(connectors.available_types())
    assert connectors.connector_class("duckdb") is DuckDBConnector


def test_missing_client_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def no_snowflake(name, *args, **kwargs):
        if name.startswith("snowflake"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(__import__("sys").modules, "journeyctl.connectors.snowflake", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_snowflake)
    with pytest.raises(ConfigError) as e:
        connectors.connector_class("snowflake")
    assert e.value.hint == "pip install 'journeyctl[snowflake]'"


def test_unknown_type_lists_the_known_ones():
    with pytest.raises(ConfigError, match="unknown target type 'oracle'; known types: bigquery, .*duckdb"):
        connectors.connect(Target("x", "oracle"))


def test_third_party_connector_from_entry_point(monkeypatch):
    class Plugin(DuckDBConnector):
        type = "mydb"

    point = EntryPoint(name="mydb", value="tests.test_registry:PLUGIN", group=connectors.ENTRY_POINT_GROUP)
    monkeypatch.setattr(connectors, "entry_points", lambda group: [point] if group == point.group else [])
    monkeypatch.setitem(globals(), "PLUGIN", Plugin)
    assert connectors.connector_class("mydb") is Plugin
    assert "mydb" in connectors.available_types()


def test_unknown_target_key_suggests_the_right_one():
    with pytest.raises(ConfigError) as e:
        connectors.connect(Target("local", "duckdb", {"memorylimit": "1GB"}))
    assert "unknown key 'memorylimit'" in str(e.value) and "memory_limit" in e.value.hint
