"""What the built tables say, for people: numbers, journeys, transitions, distributions.

`collect` runs the report queries (sql_templates/report/, rendered for the target's
dialect) and returns plain data; `format_text` lays it out for a terminal and
`render_html` as one self-contained page (plotly.js inlined, no network needed).
"""

from __future__ import annotations

import dataclasses
import html
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import click

from journeyctl import __version__
from journeyctl.connectors.base import Connector
from journeyctl.render import PipelineParams, render_query
from journeyctl.preflight import built_journey_length
from journeyctl.textout import bar, table, share

SESSIONS_PER_VISITOR_CAP = 10
EVENTS_PER_SESSION_CAP = 20
TRANSITIONS_KEPT = 400
"""Transition pairs fetched for the page's matrix; the terminal shows the top N."""
END = "(session ends)"
PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#eeca3b", "#b279a2",
           "#ff9da6", "#9d755d", "#bab0ac", "#2f4b7c", "#a05195", "#d45087", "#665191",
           "#ffa600", "#008080"]


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


@dataclass
class ReportData:
    """Everything the report shows, as plain values (counts are ints)."""

    source: str
    """Where the tables are, for people: target and schema."""
    journey_length: int
    top: int
    events: int
    visitors: int
    sessions: int
    journeys: list[tuple[list[str | None], int]] = field(default_factory=list)
    """The `top` most common session openings: their first journey_length events, sessions."""
    transitions: list[tuple[str | None, str | None, int]] = field(default_factory=list)
    """(event, next event, how often), most common first."""
    sessions_per_visitor: list[tuple[int, int]] = field(default_factory=list)
    """(sessions, visitors); the last bucket holds SESSIONS_PER_VISITOR_CAP and more."""
    events_per_session: list[tuple[int, int]] = field(default_factory=list)
    """(events, sessions); the last bucket holds EVENTS_PER_SESSION_CAP and more."""
    durations: list[tuple[str, int]] = field(default_factory=list)
    """(duration bucket, sessions), shortest first."""
    entry_exit: list[tuple[str | None, int, int, int]] = field(default_factory=list)
    """(event, sessions it opens, sessions it ends, occurrences)."""
    identity: dict[str, int] = field(default_factory=dict)
    """dbt_aliases_mapping's figures: aliases, visitors, stitched_visitors (more than one id), most_ids."""
    generated_at: str = ""

    def as_json(self) -> dict:
        return dataclasses.asdict(self)


def _int(value: Any) -> int:
    """Counts as ints (fakesnow and some drivers return SUM/COUNT as float or Decimal)."""
    return int(value) if value is not None else 0


def collect(connector: Connector, params: PipelineParams, top: int = 10, where: str = "") -> ReportData:
    """Run the report queries on an open connector over the tables in `params.schema`.

    The journey length is read from dbt_tracks_flow itself, so the report needs no flag
    repeating the run's.
    """
    params = dataclasses.replace(params, journey_length=built_journey_length(connector, params))

    def query(name: str, **extra) -> list[tuple]:
        return connector.query(render_query(f"report/{name}.sql", params, connector.dialect, **extra))

    events, visitors, sessions = (_int(v) for v in query("summary")[0])
    return ReportData(
        source=where or f"{connector.describe()}, schema {params.schema}",
        journey_length=params.journey_length,
        top=top,
        events=events,
        visitors=visitors,
        sessions=sessions,
        journeys=[(list(steps), _int(n)) for *steps, n in query("top_journeys", top=top)],
        transitions=[(a, b, _int(n)) for a, b, n in query("transitions", top=max(top, TRANSITIONS_KEPT))],
        sessions_per_visitor=[(_int(k), _int(n)) for k, n in
                              query("sessions_per_visitor", cap=SESSIONS_PER_VISITOR_CAP)],
        events_per_session=[(_int(k), _int(n)) for k, n in
                            query("session_lengths", cap=EVENTS_PER_SESSION_CAP)],
        durations=[(label, _int(n)) for _, label, n in query("session_durations")],
        entry_exit=[(e, _int(a), _int(b), _int(n)) for e, a, b, n in query("entry_exit")],
        identity=dict(zip(("aliases", "visitors", "stitched_visitors", "most_ids"),
                          (_int(v) for v in query("identity")[0]))),
        generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )


# --- terminal ---------------------------------------------------------------------

def _name(event: str | None) -> str:
    return "(no name)" if event is None else event


def _bucket(value: int, cap: int) -> str:
    return f"{value}+" if value >= cap else str(value)


def _distribution(headers: list[str], rows: list[tuple[str, int]], whole: int) -> str:
    largest = max((n for _, n in rows), default=0)
    return table([*headers, "share", ""], [(k, n, share(n, whole), bar(n, largest)) for k, n in rows],
                 align="rrrl")


def format_text(data: ReportData) -> str:
    """The report as readable tables, for stdout."""
    per_session = data.events / data.sessions if data.sessions else 0
    out = [f"journey report: {data.source}",
           "",
           table(["events", "visitors", "sessions", "events per session", "sessions per visitor"],
                 [(data.events, data.visitors, data.sessions, f"{per_session:.2f}",
                   f"{data.sessions / data.visitors if data.visitors else 0:.2f}")], align="rrrrr")]

    ids = data.identity
    out += ["", "identity (dbt_aliases_mapping)",
            table(["ids", "visitors", "visitors with several ids", "most ids of one visitor"],
                  [(ids["aliases"], ids["visitors"], ids["stitched_visitors"], ids["most_ids"])],
                  align="rrrr")]
    out += ["", f"top {len(data.journeys)} journeys (first {data.journey_length} events of a session)",
            table(["sessions", "share", "journey"],
                  [(n, share(n, data.sessions), " → ".join(_name(s) for s in steps if s is not None))
                   for steps, n in data.journeys], align="rrl")]

    moves = sum(n for *_, n in data.transitions)
    top_moves = data.transitions[:data.top]
    out += ["", f"top {len(top_moves)} transitions (event → next event in the same session)",
            table(["count", "share", "event", "", "next event"],
                  [(n, share(n, moves), _name(a), "→", _name(b)) for a, b, n in top_moves],
                  align="rrlll")]

    out += ["", "sessions per visitor",
            _distribution(["sessions", "visitors"],
                          [(_bucket(k, SESSIONS_PER_VISITOR_CAP), n) for k, n in data.sessions_per_visitor],
                          data.visitors)]
    out += ["", "session length (events)",
            _distribution(["events", "sessions"],
                          [(_bucket(k, EVENTS_PER_SESSION_CAP), n) for k, n in data.events_per_session],
                          data.sessions)]
    out += ["", "session duration (first event to last)",
            _distribution(["duration", "sessions"], data.durations, data.sessions)]

    entries = sorted(((e, a) for e, a, _, _ in data.entry_exit if a), key=lambda r: (-r[1], _name(r[0])))
    exits = sorted(((e, b, n) for e, _, b, n in data.entry_exit if b), key=lambda r: (-r[1], _name(r[0])))
    out += ["", f"entry events (first event of a session), top {min(data.top, len(entries))}",
            table(["sessions", "share", "event"],
                  [(a, share(a, data.sessions), _name(e)) for e, a in entries[:data.top]], align="rrl")]
    out += ["", f"exit events (last event of a session), top {min(data.top, len(exits))}",
            table(["sessions", "share", "event", "exit rate"],
                  [(b, share(b, data.sessions), _name(e), share(b, n)) for e, b, n in exits[:data.top]],
                  align="rrlr")]
    return "\n".join(out)


# --- HTML ---------------------------------------------------------------------

def plotly_js() -> str:
    """plotly.js as shipped inside the plotly package: inlined, so the page needs no network."""
    return (resources.files("plotly") / "package_data" / "plotly.min.js").read_text(encoding="utf-8")


def palette_colours(names: Iterable[str]) -> dict[str, str]:
    """One palette colour per distinct name, in the order given (most important first)."""
    colours: dict[str, str] = {}
    for n in names:
        colours.setdefault(n, PALETTE[len(colours) % len(PALETTE)])
    return colours


def _colours(data: ReportData) -> dict[str, str]:
    """One colour per event name, most frequent first, shared by every chart."""
    names = [_name(e) for e, *_ in sorted(data.entry_exit, key=lambda r: (-r[3], _name(r[0])))]
    for steps, _ in data.journeys:
        names += [_name(s) for s in steps if s is not None]
    colours = palette_colours(names)
    colours[END] = "#c8c8c8"
    return colours


Node = tuple[int, str]
"""A Sankey node: its column (a step or position) and its name."""


def sankey(links: Mapping[tuple[Node, Node], int], colours: Mapping[str, str], label: Callable[[int, str], str],
           unit: str, last: str | None = None) -> dict:
    """A Sankey of weighted links between nodes, as a plotly figure.

    Nodes are placed by column (x, the columns' numbers in order) and stacked by size (y), `last`
    at the bottom: left to itself, plotly would push every node without outgoing links to the
    last column.
    """
    index: dict[Node, int] = {}
    nodes: list[Node] = []
    weights: dict[tuple[int, int], int] = {}

    def node(key: Node) -> int:
        if key not in index:
            index[key] = len(nodes)
            nodes.append(key)
        return index[key]

    for (source, target), weight in links.items():
        key = (node(source), node(target))
        weights[key] = weights.get(key, 0) + weight

    inflow = [0] * len(nodes)
    outflow = [0] * len(nodes)
    for (source, target), weight in weights.items():
        outflow[source] += weight
        inflow[target] += weight
    size = [max(i, o) for i, o in zip(inflow, outflow)]
    x, y = [0.0] * len(nodes), [0.0] * len(nodes)
    columns = sorted({column for column, _ in nodes})
    for place, step in enumerate(columns):
        column = sorted((n for n, (k, _) in enumerate(nodes) if k == step),
                        key=lambda n: (nodes[n][1] == last, -size[n], nodes[n][1]))
        gap = 0.04 * sum(size[n] for n in column)
        total = sum(size[n] for n in column) + gap * (len(column) - 1) or 1
        filled = 0.0
        for n in column:
            x[n] = min(max(place / max(len(columns) - 1, 1), 0.001), 0.999)
            y[n] = min(max((filled + size[n] / 2) / total, 0.001), 0.999)
            filled += size[n] + gap

    def rgba(colour: str, alpha: float) -> str:
        r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
        return f"rgba({r},{g},{b},{alpha})"

    node_colours = [colours.get(name, "#888888") for _, name in nodes]
    return {
        "data": [{
            "type": "sankey",
            "arrangement": "snap",
            "valueformat": ",d",
            "valuesuffix": f" {unit}",
            "node": {"label": [label(k, name) for k, name in nodes], "color": node_colours,
                     "x": x, "y": y, "pad": 12, "thickness": 16,
                     "line": {"color": "#ffffff", "width": 0.5}},
            "link": {"source": [s for s, _ in weights], "target": [t for _, t in weights],
                     "value": list(weights.values()),
                     "color": [rgba(node_colours[s], 0.35) for s, _ in weights]},
        }],
        "layout": {"margin": {"l": 10, "r": 10, "t": 10, "b": 10}, "font": {"size": 12}},
    }


def sankey_figure(data: ReportData, colours: dict[str, str]) -> dict:
    """The top journeys as a Sankey: nodes "step k: event", links weighted by sessions.

    A journey shorter than the journey length flows into "step k+1: (session ends)".
    """
    links: dict[tuple[Node, Node], int] = {}
    for steps, sessions in data.journeys:
        length = next((i for i, s in enumerate(steps) if s is None), len(steps))
        path = [_name(s) for s in steps[:length]] + ([END] if length < len(steps) else [])
        for k in range(len(path) - 1):
            key = ((k + 1, path[k]), (k + 2, path[k + 1]))
            links[key] = links.get(key, 0) + sessions
    return sankey(links, colours, lambda k, event: f"step {k}: {event}", "sessions", last=END)


def transitions_figure(data: ReportData) -> dict:
    """Event → next event as a matrix (rows: event, columns: next event), the busiest events only."""
    weight: dict[str, int] = {}
    for a, b, n in data.transitions:
        weight[_name(a)] = weight.get(_name(a), 0) + n
        weight[_name(b)] = weight.get(_name(b), 0) + n
    names = sorted(weight, key=lambda e: (-weight[e], e))[:25]
    cell = {(_name(a), _name(b)): n for a, b, n in data.transitions}
    z = [[cell.get((a, b)) for b in names] for a in names]
    return {
        "data": [{"type": "heatmap", "x": names, "y": names, "z": z, "colorscale": [[0, "#eef3fa"], [0.5, "#6b9bd1"], [1, "#08306b"]],
                  "hoverongaps": False,
                  "hovertemplate": "%{y} → %{x}<br>%{z:,} times<extra></extra>",
                  "colorbar": {"title": {"text": "times"}}}],
        "layout": {"margin": {"l": 170, "r": 20, "t": 10, "b": 150},
                   "xaxis": {"title": {"text": "next event"}, "tickangle": -40},
                   "yaxis": {"title": {"text": "event"}, "autorange": "reversed"}},
    }


def bar_figure(x: list, y: list[int], x_title: str, y_title: str, colour: str = PALETTE[0]) -> dict:
    return {
        "data": [{"type": "bar", "x": [str(v) for v in x], "y": y, "marker": {"color": colour},
                  "hovertemplate": f"%{{x}} {x_title}: %{{y:,}} {y_title}<extra></extra>"}],
        "layout": {"margin": {"l": 60, "r": 10, "t": 10, "b": 60}, "bargap": 0.15,
                   "xaxis": {"title": {"text": x_title, "standoff": 12}, "type": "category",
                             "automargin": True},
                   "yaxis": {"title": {"text": y_title}}},
    }


def entry_exit_figure(data: ReportData, top: int) -> dict:
    rows = sorted(data.entry_exit, key=lambda r: (-(r[1] + r[2]), _name(r[0])))[:max(top, 12)]
    rows.reverse()  # the largest on top in a horizontal bar chart
    names = [_name(e) for e, *_ in rows]
    return {
        "data": [
            {"type": "bar", "orientation": "h", "name": "opens a session", "y": names,
             "x": [a for _, a, _, _ in rows], "marker": {"color": PALETTE[2]}},
            {"type": "bar", "orientation": "h", "name": "ends a session", "y": names,
             "x": [b for _, _, b, _ in rows], "marker": {"color": PALETTE[3]}},
        ],
        "layout": {"barmode": "group", "margin": {"l": 170, "r": 10, "t": 10, "b": 40},
                   "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 0.02, "yanchor": "bottom"},
                   "xaxis": {"title": {"text": "sessions"}}},
    }


def script_json(value: Any) -> str:
    """JSON safe inside <script>: no '</' can close the element."""
    return json.dumps(value, separators=(",", ":")).replace("</", "<\\/")


STYLE = """\
  body { font-family: -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif;
         margin: 0; background: #f6f7f9; color: #1f2430; }
  header { background: #1f2430; color: #fff; padding: 18px 32px; }
  header h1 { margin: 0; font-size: 22px; font-weight: 600; }
  header p { margin: 4px 0 0; color: #c5cad6; font-size: 13px; }
  main { padding: 20px 32px 40px; max-width: 1400px; }
  .numbers { display: flex; gap: 14px; flex-wrap: wrap; margin-bottom: 18px; }
  .number { background: #fff; border-radius: 8px; padding: 12px 18px; min-width: 150px;
            box-shadow: 0 1px 2px rgba(0,0,0,.08); }
  .number b { display: block; font-size: 24px; }
  .number span { color: #5b6273; font-size: 13px; }
  section { background: #fff; border-radius: 8px; padding: 14px 18px; margin-bottom: 18px;
            box-shadow: 0 1px 2px rgba(0,0,0,.08); }
  section h2 { font-size: 16px; margin: 0 0 2px; }
  section p { margin: 0 0 8px; color: #5b6273; font-size: 13px; }
  .grid2, .grid3 { display: grid; gap: 18px; margin-bottom: 18px; }
  .grid2 { grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); }
  .grid3 { grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); }
  .grid2 section, .grid3 section { margin-bottom: 0; }
  .chart { width: 100%; }
  table { border-collapse: collapse; font-size: 13px; width: 100%; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eceef2; }
  td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  footer { color: #8a90a0; font-size: 12px; padding: 0 32px 24px; }
"""
"""The pages' look (this report, the funnel page): their <style>."""

SHELL = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="journeyctl {version}">
<title>{title}</title>
<style>
{style}</style>
<script>{plotly}</script>
</head>
<body>
<header>
  <h1>{heading}</h1>
  <p>{subtitle}</p>
</header>
<main>
{body}</main>
<footer>journeyctl {version} · charts by plotly.js, embedded in this file</footer>
<script>
  const figures = {figures};
  const config = {{displayModeBar: false, responsive: true}};
  for (const [id, figure] of Object.entries(figures)) {{
    Plotly.newPlot(id, figure.data, figure.layout, config);
  }}
</script>
</body>
</html>
"""
"""Every journeyctl page (this report, the funnel and paths pages): one self-contained file, plotly.js
inlined, each figure drawn into the element of its id."""


def html_page(title: str, heading: str, subtitle: str, body: str, figures: dict[str, dict]) -> str:
    """A page with `body` (HTML) in its <main>; `heading` and `subtitle` are text (escaped here)."""
    return SHELL.format(version=__version__, title=html.escape(title), style=STYLE,
                        plotly=plotly_js().replace("</script", "<\\/script"), heading=html.escape(heading),
                        subtitle=html.escape(subtitle), body=body, figures=script_json(figures))


def write_page(text: str, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


REPORT = """  <div class="numbers">{numbers}</div>
  <section id="journeys">
    <h2>Top {n_journeys} journeys</h2>
    <p>The first {journey_length} events of a session, for the {n_journeys} most common openings
       ({journey_share} of all sessions). Width = sessions.</p>
    <div class="chart" id="chart-sankey" style="height: 520px"></div>
  </section>
  <div class="grid2">
    <section id="transitions">
      <h2>Transitions</h2>
      <p>How often an event is followed by another in the same session.</p>
      <div class="chart" id="chart-transitions" style="height: 520px"></div>
    </section>
    <section id="entry-exit">
      <h2>Entry and exit events</h2>
      <p>Events that open and that end sessions.</p>
      <div class="chart" id="chart-entry-exit" style="height: 520px"></div>
    </section>
  </div>
  <div class="grid3">
    <section id="sessions-per-visitor">
      <h2>Sessions per visitor</h2>
      <p>Visitors by how many sessions they had ({cap_visitor}+ grouped).</p>
      <div class="chart" id="chart-sessions-per-visitor" style="height: 300px"></div>
    </section>
    <section id="session-length">
      <h2>Session length</h2>
      <p>Sessions by number of events ({cap_session}+ grouped).</p>
      <div class="chart" id="chart-session-length" style="height: 300px"></div>
    </section>
    <section id="session-duration">
      <h2>Session duration</h2>
      <p>Sessions by time from their first event to their last.</p>
      <div class="chart" id="chart-session-duration" style="height: 300px"></div>
    </section>
  </div>
  <section id="top-journeys-table">
    <h2>Top journeys, as a table</h2>
    <table><thead><tr><th class="n">sessions</th><th class="n">share</th><th>journey</th></tr></thead>
    <tbody>{journey_rows}</tbody></table>
  </section>
"""


def render_html(data: ReportData) -> str:
    """The report as one self-contained HTML page."""
    colours = _colours(data)
    per_session = data.events / data.sessions if data.sessions else 0
    numbers = [(f"{data.events:,}", "events"), (f"{data.visitors:,}", "visitors"),
               (f"{data.sessions:,}", "sessions"), (f"{per_session:.2f}", "events per session"),
               (f"{data.sessions / data.visitors if data.visitors else 0:.2f}", "sessions per visitor")]
    journey_rows = "".join(
        f'<tr><td class="n">{n:,}</td><td class="n">{share(n, data.sessions)}</td>'
        f"<td>{html.escape(' → '.join(_name(s) for s in steps if s is not None))}</td></tr>"
        for steps, n in data.journeys)
    figures = {
        "chart-sankey": sankey_figure(data, colours),
        "chart-transitions": transitions_figure(data),
        "chart-entry-exit": entry_exit_figure(data, data.top),
        "chart-sessions-per-visitor": bar_figure(
            [_bucket(k, SESSIONS_PER_VISITOR_CAP) for k, _ in data.sessions_per_visitor],
            [n for _, n in data.sessions_per_visitor], "sessions", "visitors", PALETTE[0]),
        "chart-session-length": bar_figure(
            [_bucket(k, EVENTS_PER_SESSION_CAP) for k, _ in data.events_per_session],
            [n for _, n in data.events_per_session], "events", "sessions", PALETTE[1]),
        "chart-session-duration": bar_figure(
            [label for label, _ in data.durations], [n for _, n in data.durations],
            "duration", "sessions", PALETTE[4]),
    }
    body = REPORT.format(
        journey_length=data.journey_length,
        numbers="".join(f'<div class="number"><b>{v}</b><span>{k}</span></div>' for v, k in numbers),
        n_journeys=len(data.journeys),
        journey_share=share(sum(n for _, n in data.journeys), data.sessions),
        cap_visitor=SESSIONS_PER_VISITOR_CAP,
        cap_session=EVENTS_PER_SESSION_CAP,
        journey_rows=journey_rows,
    )
    return html_page("Journey report", "Customer journeys",
                     f"{data.source} · journey length {data.journey_length} · generated {data.generated_at}",
                     body, figures)


def write_html(data: ReportData, path: Path) -> Path:
    return write_page(render_html(data), path)
