"""A paths result as one self-contained HTML page: the edges as a Sankey (the report's builder,
positions as columns) with the top paths listed beside it."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Mapping

from journeyctl.report import html_page, palette_colours, sankey, write_page

BODY = """<div class="grid2">
  <section id="edges">
    <h2>Top {n_edges} edges</h2>
    <div class="chart" id="chart-sankey" style="height: 560px"></div>
  </section>
  <section id="paths">
    <h2>Top {n_paths} paths</h2>
    <table><thead><tr><th class="n">{per}s</th><th class="n">share</th><th>path</th></tr></thead>
    <tbody>{path_rows}</tbody></table>
  </section>
</div>
"""


def sankey_of_edges(result: Mapping[str, Any], per: str) -> dict:
    """The edges as a Sankey: a column per position, a node per (position, item)."""
    links = {((e["from_position"], e["from"]), (e["to_position"], e["to"])): e["units"] for e in result["edges"]}
    colours = palette_colours([*(i for p in result["paths"] for i in p["items"]),
                               *(e["from"] for e in result["edges"])])
    return sankey(links, colours, lambda position, item: f"{position}: {item}", f"{per}s")


def render_html(result: Mapping[str, Any], per: str, description: str) -> str:
    rows = "".join(f'<tr><td class="n">{p["units"]:,}</td><td class="n">{p["units"] / result["units"]:.1%}</td>'
                   f'<td>{html.escape(" → ".join(p["items"]))}</td></tr>' for p in result["paths"])
    body = BODY.format(per=per, n_edges=len(result["edges"]), n_paths=len(result["paths"]), path_rows=rows)
    return html_page("Paths", "Paths", f"{description} · {result['units']:,} {per}s have a path",
                     body, {"chart-sankey": sankey_of_edges(result, per)})


def write_html(result: Mapping[str, Any], path: Path, per: str, description: str) -> Path:
    return write_page(render_html(result, per, description), path)
