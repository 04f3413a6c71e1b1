"""Shared test helpers: load rows, run the pipeline, read the five tables back comparably."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from pathlib import Path

from sqlglot import exp

from journeyctl.config import Target
from journeyctl.connectors import connect
from journeyctl.connectors.base import Connector
from journeyctl.layout import EVENTS_TABLE
from journeyctl.names import SchemaName, TableName
from journeyctl.render import PipelineParams
from journeyctl.preflight import preflight
from journeyctl.runner import STAGING_PATTERN, execute_run, plan_run

PUBLISHED = ["dbt_aliases_mapping", "dbt_mapped_tracks", "dbt_session_tracks",
             "dbt_track_facts", "dbt_tracks_flow"]


def duckdb_connector(path: Path) -> Connector:
    return connect(Target("test", "duckdb", {"path": str(path)}, path.parent))


def params(source="tracks", schema="journey", **kw) -> PipelineParams:
    return PipelineParams(source=TableName.parse(source), schema=SchemaName.parse(schema), **kw)


def load(connector: Connector, table: str, columns, rows) -> None:
    connector.create_table(TableName.parse(table), columns)
    connector.insert_rows(TableName.parse(table), columns, rows)


def run_pipeline(connector: Connector, p: PipelineParams, select=()):
    return execute_run(connector, plan_run(connector, preflight(connector, p), select))


def normalise(value):
    """Values as every engine can agree on them: naive UTC timestamps, floats to 1e-9."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if hasattr(value, "is_integer"):  # Decimal
        return int(value) if value == int(value) else round(float(value), 9)
    return value


def read_tables(connector: Connector, p: PipelineParams, names=PUBLISHED) -> dict[str, set[tuple]]:
    out = {}
    for name in names:
        table = p.table_for(name).to_table()
        rows = connector.query(connector.render(exp.select("*").from_(table)))
        out[name] = {tuple(normalise(v) for v in row) for row in rows}
    return out


def normalised(tables: dict[str, set[tuple]]) -> dict[str, set[tuple]]:
    return {k: {tuple(normalise(v) for v in row) for row in rows} for k, rows in tables.items()}


def replace(p: PipelineParams, **kw) -> PipelineParams:
    return dataclasses.replace(p, **kw)


def fingerprint(connector: Connector, p: PipelineParams, names=PUBLISHED) -> dict[str, tuple[int, int]]:
    """Per published table: its row count and an order-independent checksum of its rows.

    Computed in Python from the rows exactly as the engine returns them, so it works on every
    engine (for small data): the checksum is the sum of the rows' hashes, which counts each
    copy of a row and ignores their order. Python salts str hashes per process, so compare
    fingerprints taken in the same process only.
    """
    out = {}
    for name in names:
        rows = connector.query(connector.render(exp.select("*").from_(p.table_for(name).to_table())))
        out[name] = (len(rows), sum(hash(tuple(row)) for row in rows) % 2**64)
    return out


def published_relations(p: PipelineParams) -> set[str]:
    """What a run publishes in p's layout: the five journey tables, and the views layout's event table."""
    return set(PUBLISHED) | ({EVENTS_TABLE} if p.layout == "views" else set())


def staging_tables(connector: Connector, schema: SchemaName | str) -> list[str]:
    """Tables in `schema` named like a run's staging tables (`<stage>__jc_<run id>`)."""
    schema = SchemaName.parse(schema) if isinstance(schema, str) else schema
    return sorted(t.name for t in connector.tables_in_schema(schema) if STAGING_PATTERN.fullmatch(t.name))


def schema_tables(connector: Connector, schema: SchemaName | str) -> set[str]:
    """Every table in `schema`, lower-cased."""
    schema = SchemaName.parse(schema) if isinstance(schema, str) else schema
    return {t.name.lower() for t in connector.tables_in_schema(schema)}


def edge_events_folder(tmp_path: Path, monkeypatch) -> None:
    """Make `tmp_path` the working folder, with the edge events in ./journey.duckdb and no config."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JOURNEYCTL_CONFIG", raising=False)
    from tests import edge_events as E
    with duckdb_connector(tmp_path / "journey.duckdb") as connector:
        load(connector, "tracks", E.COLUMNS, E.ROWS)
