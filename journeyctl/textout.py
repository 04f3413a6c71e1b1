"""Plain-text tables and bars for the terminal (stdout), shared by `test` and `report`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Sequence

BAR_WIDTH = 28


def cell(value: Any) -> str:
    """One value as a person reads it: thousands separators, trimmed floats, NULL spelled out."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Decimal):
        value = int(value) if value == int(value) else float(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1000 else f"{value:.9g}"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None,
          indent: str = "  ") -> str:
    """Columns padded to their widest cell; `align` is one 'l' or 'r' per column (numbers: 'r')."""
    texts = [[cell(v) if not isinstance(v, str) else v for v in row] for row in rows]
    if align is None:
        first = rows[0] if rows else [""] * len(headers)
        align = "".join("r" if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)
                        else "l" for v in first)
    widths = [max([len(h), *(len(r[i]) for r in texts)]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if a == "r" else v.ljust(w) for v, w, a in zip(values, widths, align)]
        return (indent + "  ".join(parts)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in texts)])


def bar(value: float, largest: float, width: int = BAR_WIDTH) -> str:
    """A horizontal bar in eighths of a character, `width` long for `largest`."""
    if largest <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value / largest * width * 8))
    full, rest = divmod(eighths, 8)
    return "█" * full + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[rest]


def share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"
