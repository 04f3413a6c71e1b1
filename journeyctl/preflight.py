"""What must hold on a target before SQL runs there: the source table can feed the pipeline,
and (for the commands that read them) the journey tables are built."""

from __future__ import annotations

import dataclasses
import re

from journeyctl.connectors.base import Connector
from journeyctl.errors import ConfigError
from journeyctl.render import SOURCE_COLUMNS, PipelineParams
from journeyctl.layout import journey_tables


def required_columns(params: PipelineParams) -> tuple[str, ...]:
    """The source columns a run reads: RudderStack's, with the configured event time column."""
    return (*SOURCE_COLUMNS, params.timestamp_column)


def check_source(connector: Connector, params: PipelineParams) -> dict[str, str]:
    """The source table's columns, after checking it can feed the pipeline (else ConfigError)."""
    columns = connector.columns(params.source)
    if columns is None:
        raise ConfigError(f"source table {params.source} does not exist on {connector.describe()}",
                          hint="check [pipeline] source in journeyctl.toml or --source; "
                               "`journeyctl sample` loads synthetic events to try things out")
    required = required_columns(params)
    missing = [c for c in required if c not in columns]
    if missing:
        raise ConfigError(f"source table {params.source} on {connector.describe()} lacks "
                          f"column(s): {', '.join(missing)}",
                          hint="journeyctl reads RudderStack's (or Segment's) tracks table: "
                               + ", ".join(required) + "; [pipeline] timestamp_column names the event time")
    # An instant type only (the dialect's words: TIMESTAMP; ClickHouse's DateTime[64]): BigQuery's
    # DATETIME is not accepted by TIMESTAMP_DIFF, and a text column would compare as text.
    event_time = params.timestamp_column
    if not any(word in columns[event_time] for word in connector.dialect.timestamp_types):
        raise ConfigError(f"source column {params.source}.{event_time} is {columns[event_time]}, "
                          "not a timestamp", hint="cast it in a view and point --source at the view, "
                                                  "or name another column in [pipeline] timestamp_column")
    return columns


def preflight(connector: Connector, params: PipelineParams) -> PipelineParams:
    """Check the source table on the target before any SQL runs; adapt to its columns."""
    return dataclasses.replace(params, has_received_at="received_at" in check_source(connector, params))


def built_journey_length(connector: Connector, params: PipelineParams) -> int:
    """Check the published tables exist in the output schema; the journey length they were built with.

    For the commands that read the built tables (`test`, `report`): a missing table is a
    usage error (run first), told before any query fails on it.
    """
    published = journey_tables(params)
    present = {t.name.lower() for t in connector.tables_in_schema(params.schema)}
    missing = [name for name in published if name not in present]
    if missing:
        raise ConfigError(f"schema {params.schema} on {connector.describe()} lacks the journey "
                          f"table(s) {', '.join(missing)}",
                          hint="build them first with `journeyctl run` (or pass the --schema they are in)")
    flow = connector.columns(params.table_for("dbt_tracks_flow")) or {}
    steps = [int(c[len("event_"):]) for c in flow if re.fullmatch(r"event_\d+", c)]
    return max(steps, default=1)
