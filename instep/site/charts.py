"""Charts as small bundles: a static SVG (and a PNG, for the charts that offer one) rendered at build
time, the Vega-Lite spec for the interactive view, the data as CSV, a text alternative, a data table and a
citation line.

The SVG is the baseline and needs no JavaScript; `site/assets/javascripts/charts.js` swaps in the
interactive view from the spec where scripts run. Chart data is inlined in the spec, so the interactive
view makes no request beyond the spec file itself.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd

from instep.site.chartcache import ChartRenderer
from instep.site.markup import esc, format_number, table_html, unit_label

WIDTH = 620
HEIGHT = 240
# Phones: a chart at most this wide (plus its axis) is shown at its own size on a 390 px screen, so its
# 11 px text stays 11 px. Park and overview charts are drawn a second time at this width.
MOBILE_WIDTH = 250
# Material's breakpoint between phone and tablet layouts.
MOBILE_LABEL_LIMIT = 110
MOBILE_MEDIA = "(max-width: 44.9375em)"
TEXT_PX = 11
# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
SCHEMA = alt.SCHEMA_URL


@dataclass(frozen=True)
class Citation:
    """Who to credit for a chart: the release it was drawn from."""

    title: str
    version: str
    date: str
    license: str
    synthetic: bool

    def line(self, table: str) -> str:
        text = (
            f"Source: {self.title}, release {self.version} ({self.date}), table {table}. "
            f"Licence {self.license}."
        )
        return text + (" Synthetic demonstration data." if self.synthetic else "")

    def footer(self, table: str) -> list[str]:
        """The lines under a downloaded chart and at the head of its CSV."""
        lines = [
            f"Source: {self.title}, release {self.version} ({self.date}), table {table}.",
            f"Licence {self.license}.",
        ]
        if self.synthetic:
            lines.append(SYNTHETIC_LABEL)
        return lines


SYNTHETIC_LABEL = "Synthetic demonstration data: fictional parks and facilities, no real factory."


# Text no smaller than 11 px where the chart is shown at its own size (Vega's default is 10 px).
TEXT_CONFIG: dict[str, Any] = {
    "axis": {"labelFontSize": TEXT_PX, "titleFontSize": TEXT_PX + 1},
    "legend": {"labelFontSize": TEXT_PX, "titleFontSize": TEXT_PX + 1},
    "header": {"labelFontSize": TEXT_PX, "titleFontSize": TEXT_PX + 1},
    "text": {"fontSize": TEXT_PX},
}


def base_config(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return (
        chart.configure(font=FONT)
        .configure_range(category=PALETTE)
        .configure_view(stroke=None)
        .configure_axis(**TEXT_CONFIG["axis"])
        .configure_legend(**TEXT_CONFIG["legend"])
        .configure_header(**TEXT_CONFIG["header"])
    )


def _month_start(period: str) -> dict[str, Any]:
    """The first day of a month (YYYY-MM) as a Vega-Lite date-time, in UTC as the axis is."""
    year, month = (int(part) for part in period.split("-"))
    return {"year": year, "month": month, "date": 1, "utc": True}


def month_after(period: str) -> str:
    year, month = (int(part) for part in period.split("-"))
    return f"{year + month // 12}-{month % 12 + 1:02d}"


def month_axis(field: str = "month", window: tuple[str, str] | None = None, bars: bool = False) -> alt.X:
    """The time axis of monthly charts; `window` (first and last month, YYYY-MM) fixes its extent, so
    that months without a value show as gaps and a single month is not stretched over the whole axis.
    A bar spans its month, so with `bars` the axis runs to the end of the last month; points sit at
    the start of theirs, so a window of one month leaves the extent to Vega-Lite (a domain of one
    instant has no width)."""
    scale = alt.Undefined
    if window is not None and (bars or window[0] < window[1]):
        end = month_after(window[1]) if bars else window[1]
        scale = alt.Scale(domain=[_month_start(window[0]), _month_start(end)])
    return alt.X(
        f"{field}:T",
        timeUnit="utcyearmonth",
        title=None,
        scale=scale,
        axis=alt.Axis(format="%b %Y", labelAngle=0, tickCount=6),
    )


def stacked_monthly(
    frame: pd.DataFrame, unit: str, mark: str = "bar", window: tuple[str, str] | None = None
) -> alt.Chart:
    """Monthly values by series, stacked; `frame` has columns month, series, value; `window` as in
    `month_axis`."""
    label = unit_label(unit)
    base = alt.Chart(frame)
    marked = base.mark_area(opacity=0.85) if mark == "area" else base.mark_bar()
    return marked.encode(
        x=month_axis(window=window, bars=mark != "area"),
        y=alt.Y("value:Q", title=label, stack="zero"),
        color=alt.Color(
            "series:N", title=None, legend=alt.Legend(orient="bottom", columns=2, labelLimit=320)
        ),
        order=alt.Order("order:Q"),
        tooltip=[
            alt.Tooltip("month:T", timeUnit="utcyearmonth", title="Month", format="%b %Y"),
            alt.Tooltip("series:N", title="Series"),
            alt.Tooltip("value:Q", title=label, format=",.1f"),
        ],
    ).properties(width=WIDTH, height=HEIGHT)


def share_line(
    frame: pd.DataFrame, unit: str = "%", percent: bool = True, window: tuple[str, str] | None = None
) -> alt.Chart:
    """A monthly percentage (or, not `percent`, any rate from zero) as lines with points; `frame` has
    month, series, value. A row whose value is missing breaks its line (Vega-Lite breaks paths at
    invalid values), so a month without a value is not bridged; `window` as in `month_axis`."""
    label = unit_label(unit)
    zoom = alt.selection_interval(bind="scales", encodings=["x"])
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=month_axis(window=window),
            y=alt.Y(
                "value:Q",
                title=label,
                scale=alt.Scale(domain=[0, 100]) if percent else alt.Scale(zero=True),
            ),
            color=alt.Color("series:N", title=None, legend=alt.Legend(orient="bottom", labelLimit=400)),
            tooltip=[
                alt.Tooltip("month:T", timeUnit="utcyearmonth", title="Month", format="%b %Y"),
                alt.Tooltip("series:N", title="Series"),
                alt.Tooltip("value:Q", title=label, format=".1f"),
            ],
        )
        .add_params(zoom)
        .properties(width=WIDTH, height=HEIGHT)
    )


# Facility charts are drawn once, narrow enough for a phone (see MOBILE_WIDTH).
FACILITY_WIDTH = 255
# Bold DejaVu Sans at 11 px averages under 7.2 px a character. A panel's title is wrapped to the
# panel's width in Python, whole words on each line, instead of Vega's `limit`, which measures the text
# again and again to cut it with an ellipsis: a third of a facility chart's drawing time, and a word lost.
TITLE_BOLD_CHAR_PX = 7.2


def panel_title_lines(text: str) -> list[str]:
    """A panel's title as lines that fit the facility chart's width (and the 40 px beside it)."""
    chars = max(20, int((FACILITY_WIDTH + 40) / TITLE_BOLD_CHAR_PX))
    return textwrap.wrap(text, chars, break_on_hyphens=False) or [text]


def small_multiples(
    rows: Sequence[tuple[str, str, float, str, int]], panel_height: int = 70
) -> dict[str, Any]:
    """One panel per measure with its own y scale (percentages on 0-100), sharing the months: `rows`
    are (month, series, value, unit, order), a panel per order, titled with its series and unit.

    Written as a Vega-Lite dict from plain rows, not through Altair or pandas: it is the one chart of
    every facility page, and their object models cost more than rendering at national scale.
    """
    tooltip = [
        {
            "field": "month",
            "format": "%b %Y",
            "timeUnit": "utcyearmonth",
            "title": "Month",
            "type": "temporal",
        },
        {"field": "panel", "title": "Measure", "type": "nominal"},
        {"field": "value", "format": ",.1f", "title": "Value", "type": "quantitative"},
    ]
    groups: dict[int, list[tuple[str, str, float, str, int]]] = {}
    for row in rows:
        groups.setdefault(row[4], []).append(row)
    panels = []
    for index, order in enumerate(sorted(groups)):
        panel = groups[order]
        title = f"{panel[0][1]} ({unit_label(panel[0][3])})"
        last = index == len(groups) - 1
        x: dict[str, Any] = {"field": "month", "timeUnit": "utcyearmonth", "title": None, "type": "temporal"}
        x["axis"] = (
            {"format": "%b %Y", "labelAngle": 0, "tickCount": 6}
            if last
            else {"labels": False, "ticks": False, "tickCount": 6}
        )
        scale = {"domain": [0, 100]} if panel[0][3] == "%" else {"zero": True}
        values = [{"month": m, "series": k, "value": v, "unit": u, "panel": title} for m, k, v, u, _ in panel]
        panels.append(
            {
                "data": {"values": values},
                "mark": {"type": "line", "color": PALETTE[0], "point": {"size": 18}, "strokeWidth": 1.5},
                "encoding": {
                    "tooltip": tooltip,
                    "x": x,
                    "y": {
                        "axis": {"tickCount": 3},
                        "field": "value",
                        "scale": scale,
                        "title": None,
                        "type": "quantitative",
                    },
                },
                "height": panel_height,
                "width": FACILITY_WIDTH,
                "title": {
                    "text": panel_title_lines(title),
                    "anchor": "start",
                    "fontSize": TEXT_PX,
                    "fontWeight": "bold",
                },
            }
        )
    # One time axis for all panels, so the months line up.
    return {"vconcat": panels, "spacing": 12, "resolve": {"scale": {"x": "shared"}}}


def bars(
    frame: pd.DataFrame, category: str, value_title: str, color: str | None = None, percent: bool = True
) -> alt.Chart:
    """Horizontal bars on a 0–100 scale (scores, shares): `frame` has label, value (and `color`)."""
    scale = alt.Scale(domain=[0, 100]) if percent else alt.Scale()
    encoding = {
        "y": alt.Y("label:N", title=None, sort=None, axis=alt.Axis(labelLimit=260)),
        "x": alt.X("value:Q", title=value_title, scale=scale),
        "tooltip": [
            alt.Tooltip("label:N", title=category),
            alt.Tooltip("value:Q", title=value_title, format=".1f"),
        ],
    }
    if color:
        encoding["color"] = alt.Color(f"{color}:N", title=None, legend=alt.Legend(orient="bottom"))
        encoding["yOffset"] = alt.YOffset(f"{color}:N")
        encoding["tooltip"].append(alt.Tooltip(f"{color}:N"))
    return alt.Chart(frame).mark_bar().encode(**encoding).properties(width=WIDTH - 240)


@dataclass(frozen=True)
class Figure:
    """What a page needs to show one chart."""

    slug: str
    title: str
    alt: str
    chart: alt.TopLevelMixin | dict[str, Any]  # configured by base_config() at render time
    data: pd.DataFrame  # the data as published in the chart's CSV
    table: str  # source table name, for the citation
    unit: str = ""
    # A PNG beside the SVG, for slides and documents. Facility charts offer SVG only: there is one per
    # facility, and at national scale their PNGs would be most of the site's build time and size.
    png: bool = True
    # A second drawing at MOBILE_WIDTH for phones. Facility charts are drawn narrow enough for both.
    mobile: bool = True


SIZE_TOKEN = "@@instep-chart-size:"


def size_token(key: str) -> str:
    """Stands for an <img>'s width and height until the chart is rendered (see SiteContext.finish)."""
    return f"{SIZE_TOKEN}{key}@@"


def size_attributes(size: tuple[int, int]) -> str:
    return f'width="{size[0]}" height="{size[1]}"'


def chart_spec(figure: Figure) -> dict[str, Any]:
    if isinstance(figure.chart, dict):
        spec = {
            "$schema": SCHEMA,
            "config": {
                "view": {"continuousWidth": 300, "continuousHeight": 300, "stroke": None},
                "font": FONT,
                "range": {"category": PALETTE},
                **TEXT_CONFIG,
            },
            **figure.chart,
        }
    else:
        # Specs are built by the functions above from known columns; skip Altair's slow schema validation.
        spec = base_config(figure.chart).to_dict(validate=False)
    spec["description"] = figure.alt
    # Charts drawn once for every screen wrap their title to the phone width.
    text: str | list[str] = figure.title if figure.mobile else title_lines(figure.title)
    spec["title"] = {"text": text, "anchor": "start", "fontSize": 13}
    return spec


TITLE_CHARS = 38  # bold 13 px: a line of this many characters fits MOBILE_WIDTH and its axis


def title_lines(title: str) -> list[str]:
    return textwrap.wrap(title, TITLE_CHARS) or [title]


def mobile_spec(spec: Any) -> Any:
    """The spec drawn for a phone: views no wider than MOBILE_WIDTH, side-by-side views stacked, one
    legend column, and a title that wraps instead of running off."""
    if isinstance(spec, list):
        return [mobile_spec(item) for item in spec]
    if not isinstance(spec, dict):
        return spec
    out: dict[str, Any] = {}
    # A view with long category labels on its y axis (bars) leaves them their room.
    encoding = spec.get("encoding")
    y_axis = encoding.get("y", {}).get("axis") if isinstance(encoding, dict) else None
    labels = min(y_axis.get("labelLimit", 0), MOBILE_LABEL_LIMIT) if isinstance(y_axis, dict) else 0
    for name, value in spec.items():
        if name in ("data", "datasets"):
            out[name] = value
        elif name == "title" and isinstance(value, dict) and isinstance(value.get("text"), str):
            out[name] = {**value, "text": title_lines(value["text"])}
        elif name == "hconcat":
            out["vconcat"] = mobile_spec(value)
        elif name == "width" and isinstance(value, int | float) and value > MOBILE_WIDTH + 30 - labels:
            out[name] = MOBILE_WIDTH - labels
        elif name == "legend" and isinstance(value, dict):
            out[name] = {**value, "columns": 1, "labelLimit": MOBILE_WIDTH}
        elif name == "labelLimit" and isinstance(value, int | float):
            out[name] = min(value, MOBILE_LABEL_LIMIT)
        else:
            out[name] = mobile_spec(value)
    return out


def file_stem(figure: Figure, subject: str) -> str:
    """What a chart's files are called: whose, what and when (`ET-HAW-emissions-2024-2025`)."""
    years: list[str] = []
    if "month" in figure.data.columns and len(figure.data):
        years = sorted({str(m)[:4] for m in figure.data["month"]})
    elif "year" in figure.data.columns and len(figure.data):
        years = sorted({str(y)[:4] for y in figure.data["year"]})
    period = years[0] if len(years) == 1 else f"{years[0]}-{years[-1]}" if years else ""
    return "-".join(part for part in (subject, figure.slug, period) if part)


def csv_with_header(figure: Figure, citation: Citation) -> str:
    """The chart's data as CSV under a header block of `#` lines (title, source, release, licence,
    synthetic label); read it with e.g. pandas.read_csv(path, comment="#")."""
    header = [figure.title, *citation.footer(figure.table)]
    if figure.unit:
        header.append(f"Unit: {unit_label(figure.unit)}")
    block = "".join(f"# {line}\n" for line in header)
    return block + figure.data.to_csv(index=False, lineterminator="\n")


def render(
    figure: Figure,
    directory: Path,
    citation: Citation,
    renderer: ChartRenderer,
    prefix: str = "charts",
    subject: str = "",
) -> str:
    """Write the bundle into `directory/prefix/` and return the HTML that shows it on a page.

    `subject` (a park or facility id, or `all-parks`) starts the file names. The SVG (and PNG) are
    rendered (or taken from the cache) by `renderer`; the HTML holds a size token for the image's width
    and height until then.
    """
    out = directory / prefix
    out.mkdir(parents=True, exist_ok=True)
    stem = file_stem(figure, subject)
    spec = chart_spec(figure)
    footer = citation.footer(figure.table)
    svg_path, png_path, csv_path = out / f"{stem}.svg", out / f"{stem}.png", out / f"{stem}.csv"
    key = renderer.submit(spec, svg_path, png_path if figure.png else None, footer)
    (out / f"{stem}.vl.json").write_text(
        json.dumps(spec, separators=(",", ":"), sort_keys=True), encoding="utf-8"
    )
    csv_path.write_text(csv_with_header(figure, citation), encoding="utf-8")
    renderer.bundle(out / f"{stem}.zip", [svg_path, *([png_path] if figure.png else []), csv_path])
    base = f"{prefix}/{stem}"
    source, mobile_attr = "", ""
    if figure.mobile:
        phone = mobile_spec(spec)
        phone_key = renderer.submit(phone, out / f"{stem}.phone.svg", None, footer)
        (out / f"{stem}.phone.vl.json").write_text(
            json.dumps(phone, separators=(",", ":"), sort_keys=True), encoding="utf-8"
        )
        source = f'<source media="{MOBILE_MEDIA}" srcset="{base}.phone.svg" {size_token(phone_key)}>'
        mobile_attr = f' data-spec-phone="{base}.phone.vl.json" data-phone-media="{MOBILE_MEDIA}"'
    png_link = f'<a href="{base}.png" download>PNG</a>' if figure.png else ""
    cite = citation.line(figure.table)
    caption = (
        f'<span class="instep-chart__title">{esc(figure.title)}</span> {esc(figure.alt)} '
        f'<span class="instep-chart__links">Download: <a href="{base}.svg" download>SVG</a>'
        f'{png_link}<a href="{base}.csv" download>data (CSV)</a>'
        f'<a href="{base}.zip" download>all three (zip)</a></span>'
        f'<span class="instep-chart__cite"><span class="instep-cite__text">{esc(cite)}</span>'
        f'<button type="button" class="instep-copy" data-copy="{esc(cite)}" hidden>Copy citation</button>'
        "</span>"
    )
    # The data table is left out of the search index: months of numbers are not what readers search for,
    # and they would make most of the index.
    return (
        f'<div class="instep-chart-bundle"><figure class="instep-chart" id="chart-{figure.slug}" '
        f'data-spec="{base}.vl.json"{mobile_attr}>'
        f'<div class="instep-chart__static"><picture>{source}<img src="{base}.svg" alt="{esc(figure.alt)}" '
        f'{size_token(key)} loading="lazy"></picture></div>'
        f'<div class="instep-chart__interactive" hidden></div>'
        f"<figcaption>{caption}</figcaption></figure>"
        f'<details class="instep-chart__data" data-search-exclude>'
        f"<summary>Data table: {esc(figure.title)}</summary>"
        f"{data_table(figure.data, figure.unit)}</details></div>"
    )


def data_table(frame: pd.DataFrame, unit: str = "") -> str:
    """The chart's data as an HTML table (wide when it has month/series/value columns)."""
    if {"month", "series", "value"} <= set(frame.columns):
        # Each series' own unit: small multiples mix them.
        units = (
            dict(zip(frame["series"], frame["unit"].astype(str), strict=True))
            if "unit" in frame.columns
            else {}
        )
        months = list(dict.fromkeys(frame["month"]))
        series = list(dict.fromkeys(frame["series"]))
        cells = {(m, k): v for m, k, v in zip(frame["month"], frame["series"], frame["value"], strict=True)}
        headers = ["Month"] + [
            f"{name} ({unit_label(units[name])})" if units.get(name) else str(name) for name in series
        ]
        rows = [
            [esc(str(month)[:7]), *[esc(format_number(cells.get((month, k)), "", None)) for k in series]]
            for month in sorted(months)
        ]
        return table_html(headers, rows, [False, *([True] * len(series))])
    columns = list(frame.columns)
    numeric = [pd.api.types.is_numeric_dtype(frame[column]) for column in columns]
    rows = [
        [esc(format_number(v, "") if numeric[i] else v) for i, v in enumerate(row)]
        for row in frame.itertuples(index=False)
    ]
    headers = [
        f"{COLUMN_WORDS.get(c, c)} ({unit_label(unit)})" if c == "value" and unit else COLUMN_WORDS.get(c, c)
        for c in columns
    ]
    return table_html(headers, rows, numeric)


# Headers of chart data tables in words (the CSV keeps the column names).
COLUMN_WORDS = {
    "label": "Park",
    "park_id": "Park id",
    "value": "Value",
    "year": "Year",
    "name": "Name",
    "country": "Country",
    "region": "Region",
    "lat": "Latitude (°)",
    "lon": "Longitude (°)",
}
