"""A funnel as one self-contained HTML page, in the report's style (plotly.js inlined, opens
offline): bars per step with the drop-off between them, the time to convert, the trend."""

from __future__ import annotations

import html
from datetime import datetime, timezone
from pathlib import Path

from journeyctl.analysis.funnel import Funnel, duration_text
from journeyctl.report import PALETTE, html_page, write_page
from journeyctl.textout import share

BODY = """  <div class="numbers">{numbers}</div>
  <section id="steps">
    <h2>Steps</h2>
    <p>Units whose best attempt reached each step; the lighter part is the drop-off from the step before.</p>
    <div class="chart" id="chart-steps" style="height: 420px"></div>
  </section>
  <section id="durations">
    <h2>Time between steps</h2>
    <p>Over the units that reached the step: from the step before, and from the entry.</p>
    <table><thead><tr><th>step</th><th class="n">units</th><th class="n">of first</th>
    <th class="n">of previous</th><th class="n">median from previous</th><th class="n">average from previous</th>
    <th class="n">median from entry</th><th class="n">average from entry</th></tr></thead>
    <tbody>{step_rows}</tbody></table>
  </section>
  {trend}
"""

TREND = """<section id="trend">
    <h2>Trend by {interval}</h2>
    <p>Of the units with an attempt entering in the {interval} (UTC{week}), the share that reached the last step.</p>
    <div class="chart" id="chart-trend" style="height: 340px"></div>
  </section>"""


def _label(names: tuple[str, ...]) -> str:
    return " | ".join(names)


def steps_figure(funnel: Funnel, steps: list[dict]) -> dict:
    """Stacked bars: the units at each step, and on top the units lost since the step before."""
    labels = [f"{s['step']}. {_label(n)}" for s, n in zip(steps, funnel.steps)]
    reached = [s["units"] for s in steps]
    lost = [0, *(max(a - b, 0) for a, b in zip(reached, reached[1:]))]
    first = reached[0]
    return {
        "data": [
            {"type": "bar", "name": "reached", "x": labels, "y": reached, "marker": {"color": PALETTE[0]},
             "text": [share(n, first) for n in reached], "textposition": "auto",
             "hovertemplate": "%{x}<br>%{y:,} units<extra></extra>"},
            {"type": "bar", "name": "dropped off", "x": labels, "y": lost,
             "marker": {"color": "#c9d6e6"},
             "hovertemplate": "%{x}<br>%{y:,} units dropped off<extra></extra>"},
        ],
        "layout": {"barmode": "stack", "margin": {"l": 60, "r": 10, "t": 10, "b": 80},
                   "yaxis": {"title": {"text": "units"}}, "legend": {"orientation": "h"}},
    }


def trend_figure(trend: list[dict]) -> dict:
    return {
        "data": [{"type": "scatter", "mode": "lines+markers", "x": [p["period"] for p in trend],
                  "y": [p["conversion"] for p in trend], "line": {"color": PALETTE[2]},
                  "customdata": [[p["entered"], p["converted"]] for p in trend],
                  "hovertemplate": "%{x}<br>%{y:.1%} (%{customdata[1]:,} of %{customdata[0]:,})<extra></extra>"}],
        "layout": {"margin": {"l": 60, "r": 10, "t": 10, "b": 50},
                   "yaxis": {"title": {"text": "conversion"}, "tickformat": ".0%", "rangemode": "tozero"},
                   "xaxis": {"type": "category"}},
    }


def render_funnel_html(funnel: Funnel, result: dict) -> str:
    steps, t = result["steps"], result["time_to_convert"]
    numbers = [(f"{steps[0]['units']:,}", "entered"), (f"{t['units']:,}", "converted"),
               (share(t["units"], steps[0]["units"]), "conversion"),
               (duration_text(t["median_seconds"]), "median time to convert"),
               (duration_text(t["avg_seconds"]), "average time to convert")]
    step_rows = "".join(
        f"<tr><td>{s['step']}. {html.escape(_label(names))}</td><td class=\"n\">{s['units']:,}</td>"
        f"<td class=\"n\">{share(s['units'], steps[0]['units'])}</td>"
        f"<td class=\"n\">{share(s['units'], steps[i - 1]['units']) if i else ''}</td>"
        + "".join(f"<td class=\"n\">{duration_text(s[k]) if i else ''}</td>"
                  for k in ("median_seconds_from_previous", "avg_seconds_from_previous",
                            "median_seconds_from_first", "avg_seconds_from_first"))
        + "</tr>"
        for i, (s, names) in enumerate(zip(steps, funnel.steps)))
    figures = {"chart-steps": steps_figure(funnel, steps)}
    trend = ""
    if "trend" in result:
        figures["chart-trend"] = trend_figure(result["trend"])
        trend = TREND.format(interval=funnel.interval, week=", from Monday" if funnel.interval == "week" else "")
    body = BODY.format(
        numbers="".join(f'<div class="number"><b>{html.escape(v)}</b><span>{k}</span></div>' for v, k in numbers),
        step_rows=step_rows, trend=trend)
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return html_page("Funnel", f"Funnel: {' → '.join(_label(n) for n in funnel.steps)}",
                     f"{funnel.describe()} · generated {generated}", body, figures)


def write_funnel_html(funnel: Funnel, result: dict, path: Path) -> Path:
    return write_page(render_funnel_html(funnel, result), path)
