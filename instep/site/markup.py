"""Small HTML helpers for the generated pages: escaping, number formatting with units, traceable cells.

Every number a page shows from a release table carries `data-table`, `data-key`, `data-field` and
`data-raw` attributes naming the CSV cell it came from, so that a reader's tools (and the tests) can
check it against the published file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from html import escape

NA = "n/a"
# Units shown in a friendlier spelling; the data keeps its canonical unit strings.
UNIT_DISPLAY = {
    "%": "%",
    "percent": "%",
    "t CO2e": "t CO₂e",
    "t_co2e": "t CO₂e",
    "kg CO2e/kg": "kg CO₂e/kg",
    "t CO2/MWh": "t CO₂/MWh",
    "m3": "m³",
    "m^3": "m³",
    # rates and ratios in words
    "per 1000000 h": "per million hours worked",
    "per 1,000,000 h": "per million hours worked",
    "per 200000 h": "per 200,000 hours worked",
    "per 200,000 h": "per 200,000 hours worked",
    "h": "hours",
    "h/person": "hours per person",
    "pcs": "pieces",
    "ratio": "(ratio)",
}


def esc(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def unit_label(unit: str | None) -> str:
    unit = (unit or "").strip()
    return UNIT_DISPLAY.get(unit, unit)


def decimals_for(value: float) -> int:
    magnitude = abs(value)
    if magnitude >= 1000:
        return 0
    if magnitude >= 100:
        return 1
    if magnitude >= 1:
        return 2 if magnitude < 10 else 1
    return 3 if magnitude else 0


def format_number(value: float | None, unit: str | None = "", decimals: int | None = None) -> str:
    """'12,345 t CO₂e', '7.25 %', 'n/a'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NA
    # Whole numbers (counts, round values) are shown without decimals.
    places = 0 if value == round(value) else decimals_for(value) if decimals is None else decimals
    text = f"{value:,.{places}f}"
    label = unit_label(unit)
    if not label:
        return text
    return f"{text}\u202f{label}" if label == "%" else f"{text}\u00a0{label}"


def cell_attrs(table: str, key: Mapping[str, object], field: str, raw: str) -> str:
    key_json = json.dumps({k: str(v) for k, v in key.items()}, separators=(",", ":"))
    return (
        f'data-table="{esc(table)}" data-key="{esc(key_json)}" '
        f'data-field="{esc(field)}" data-raw="{esc(raw)}"'
    )


def traced_number(
    table: str,
    key: Mapping[str, object],
    field: str,
    raw: str,
    unit: str | None,
    decimals: int | None = None,
) -> str:
    """A formatted number in a <span> that names its source cell."""
    attrs = cell_attrs(table, key, field, str(raw))
    try:
        shown = format_number(float(raw) if str(raw).strip() else None, unit, decimals)
    except ValueError:  # a range such as a pH limit "6-9"
        shown = f"{raw}\u00a0{unit_label(unit)}" if unit_label(unit) else str(raw)
    return f'<span class="instep-value" {attrs}>{esc(shown)}</span>'


WIDE_COLUMNS = 7


def table_html(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    numeric: Sequence[bool] | None = None,
    caption: str | None = None,
    cards: bool | None = None,
    attrs: str = "",
) -> str:
    """A plain HTML table (cells are already HTML); numeric columns are right-aligned.

    With `cards` (by default for tables of three columns or more; two fit a phone as they are) each cell
    carries its column's header as `data-label`, and on a phone the stylesheet shows every row as a card
    of label-value lines instead of columns off the screen.
    `attrs` are added to the <table> tag (e.g. `data-filterable`)."""
    numeric = list(numeric or [False] * len(headers))
    cards = len(headers) > 2 if cards is None else cards
    right = ' class="instep-num"'
    head = "".join(
        f'<th scope="col"{right if numeric[i] else ""}>{esc(h)}</th>' for i, h in enumerate(headers)
    )
    labels = [f' data-label="{esc(h)}"' if cards else "" for h in headers]
    body = []
    for row in rows:
        cells = "".join(
            f"<td{labels[i]}{right if numeric[i] else ''}>{cell}</td>" for i, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    caption_html = f"<caption>{esc(caption)}</caption>" if caption else ""
    # Tables of many columns share the column's width equally on a desktop (see site.css).
    wide = " data-wide" if len(headers) >= WIDE_COLUMNS else ""
    table_attrs = (" data-cards" if cards else "") + wide + (f" {attrs}" if attrs else "")
    return (
        f"<table{table_attrs}>{caption_html}<thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def link(href: str, text: str) -> str:
    return f'<a href="{esc(href)}">{esc(text)}</a>'
