"""The connector registry: a target's `type` → its connector class.

Built-in connectors are imported only when used, so a missing warehouse client is
reported as the extra to install. Third-party packages can add types through the
`journeyctl.connectors` entry-point group.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from journeyctl.config import Target
from journeyctl.connectors.base import Connector
from journeyctl.errors import ConfigError

BUILTIN = {
    "duckdb": ("journeyctl.connectors.duckdb", "DuckDBConnector", None),
    "bigquery": ("journeyctl.connectors.bigquery", "BigQueryConnector", "bigquery"),
    "snowflake": ("journeyctl.connectors.snowflake", "SnowflakeConnector", "snowflake"),
    "redshift": ("journeyctl.connectors.redshift", "RedshiftConnector", "redshift"),
    "postgres": ("journeyctl.connectors.postgres", "PostgresConnector", "postgres"),
    "clickhouse": ("journeyctl.connectors.clickhouse", "ClickHouseConnector", "clickhouse"),
    "spark": ("journeyctl.connectors.spark", "SparkConnector", "spark"),
}
ENTRY_POINT_GROUP = "journeyctl.connectors"


def available_types() -> list[str]:
    return sorted({*BUILTIN, *(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))})


def connector_class(type_name: str) -> type[Connector]:
    if type_name in BUILTIN:
        module_name, class_name, extra = BUILTIN[type_name]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if extra is None or (e.name or "").startswith("journeyctl"):
                raise
            raise ConfigError(f"the {type_name} connector needs {e.name}, which is not installed",
                              hint=f"pip install 'journeyctl[{extra}]'")
        return getattr(module, class_name)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == type_name:
            return ep.load()
    raise ConfigError(f"unknown target type {type_name!r}; known types: {', '.join(available_types())}")


def connect(target: Target) -> Connector:
    """A connector for `target`, validated but not yet opened."""
    return connector_class(target.type)(target)
