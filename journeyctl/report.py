"""What the built tables say, for people: headline numbers and the common journeys."""

from __future__ import annotations

import click

from journeyctl.connectors.base import Connector
from journeyctl.render import PipelineParams, render_query


def print_summary(connector: Connector, params: PipelineParams, top: int = 10) -> None:
    """Headline numbers and the `top` most common session openings, on stdout."""
    dialect = connector.dialect
    events, visitors, sessions = connector.query(render_query("report/summary.sql", params, dialect))[0]
    journeys = connector.query(render_query("report/top_journeys.sql", params, dialect, top=top))
    click.echo(f"events    {events:>12,}")
    click.echo(f"visitors  {visitors:>12,}")
    click.echo(f"sessions  {sessions:>12,}")
    click.echo(f"events per session {events / sessions if sessions else 0:>6.2f}")
    click.echo(f"\ntop {len(journeys)} journeys (first {params.journey_length} events of a session):")
    for *steps, count in journeys:
        path = " → ".join(s for s in steps if s is not None)
        click.echo(f"{count:>8,}  {path}")
