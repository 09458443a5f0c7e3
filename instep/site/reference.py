"""The pages about the data itself: methodology, data dictionary, downloads and releases, data quality.

The methodology text comes from `instep.methodology` (the same rubric, factor and limit files the code
uses); the dictionary from the package schema; downloads and history from the release folders.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import yaml

from instep import methodology as methodology_text
from instep.metadata.resources import COVERAGE_THRESHOLD_PCT
from instep.scoring import load_rubric
from instep.site import changelog, charts, jsonld, words
from instep.site.context import SiteContext
from instep.site.markup import esc, format_number, link, table_html, traced_number, unit_label
from instep.site.pages import PILLARS
from instep.site.release import Release, number


def _anchor(component: str) -> str:
    return "indicator-" + component.replace("_", "-").replace(".", "-")


def methodology_markdown(gwp_set: str, rubric_version: int) -> str:
    """The methodology text from `instep.methodology`: the files the code computes with."""
    return methodology_text.methodology_markdown(gwp_set=gwp_set, rubric_version=rubric_version)


def methodology(ctx: SiteContext, settings: Any) -> None:
    cards = ctx.table("scorecards")
    indicators = []
    if not cards.empty:
        year = max(cards["year"], key=int)
        latest = cards[(cards["year"] == year) & ~cards["component"].isin(["pillar", "overall"])]
        latest = latest.drop_duplicates("component")
        order = list(PILLARS)
        latest = latest.assign(_order=[order.index(p) if p in order else 99 for p in latest["pillar"]])
        for _, card in latest.sort_values("_order", kind="stable").iterrows():
            unit = card.get("unit", "")
            bounds = (
                f"floor {esc(format_number(number(card['floor']), unit))} (score 0) · "
                f"target {esc(format_number(number(card['target']), unit))} (score 100) · "
                if str(card["floor"]).strip() and str(card["target"]).strip()
                else ""
            )
            indicators.append(
                f'<h3 id="{_anchor(card["component"])}">{esc(card["label"] or card["component"])}</h3>\n\n'
                f"<p>Pillar: {esc(PILLARS.get(card['pillar'], card['pillar']))} · "
                f"code <code>{esc(card['component'])}</code> · {bounds}"
                f"rubric version {esc(card.get('rubric_version', ''))}</p>"
            )
    # The rubric and GWP set the release was computed with (the settings only when it does not say).
    gwp_set, rubric_version = settings.gwp_set, settings.rubric_version
    if not cards.empty:
        gwp_set = str(cards["gwp_set"].iloc[0] or gwp_set).lower()
        rubric_version = int(cards["rubric_version"].iloc[0] or rubric_version)
    # This page has its own title; the methodology's sections follow the scorecard indicators.
    lines = methodology_markdown(gwp_set, rubric_version).strip().splitlines()
    text = "\n".join(lines[1:] if lines and lines[0].startswith("# ") else lines)
    body = f"""
# Methodology

How every published number is computed: the formulas, the scorecard rubric, the emission factors and
the wastewater limits. They are rendered from the same data files the pipeline uses.

## Scorecard indicators

Each indicator scores 0 at its floor and 100 at its target, linearly in between and clamped to 0–100.
An indicator without data is shown as n/a with its reason and is left out of its pillar's mean; a
pillar is the mean of its indicators and the overall score is the weighted mean of the pillars with
data.

{chr(10).join(indicators) or "No scorecards in this release."}

{text}
"""
    ctx.write("methodology/index.md", "Methodology", body)


def dictionary_page(name: str) -> str:
    """The data dictionary's page of one table of the package."""
    return f"data-dictionary/{name}/index.md"


def _column_rows(schema: dict[str, Any]) -> list[list[str]]:
    rows = []
    for field in schema.get("fields", []):
        unit = field.get("unit", "") or ""
        rows.append(
            [
                f'<code class="instep-column">{esc(field["name"]).replace("_", "_<wbr>")}</code>',
                esc(words.TYPE_WORDS.get(field.get("type", ""), field.get("type", ""))),
                esc(unit_label(words.unit_words(unit, field["name"])) if unit else ""),
                esc(field.get("description", "")),
                esc(words.constraint_words(field.get("constraints", {}))),
            ]
        )
    return rows


def _keys_text(schema: dict[str, Any], tables: set[str]) -> str:
    """What identifies a row, and which columns refer to which table (linked to its page)."""
    keys = schema.get("primaryKey", [])
    keys = keys if isinstance(keys, list) else [keys]
    text = (
        "Each row is identified by " + " and ".join(f"<code>{esc(k)}</code>" for k in keys) + "."
        if keys
        else "The table has no primary key."
    )
    for foreign in schema.get("foreignKeys", []):
        fields = " and ".join(f"<code>{esc(f)}</code>" for f in foreign.get("fields", []))
        target = foreign.get("reference", {}).get("resource", "")
        table = link(f"../{target}/", target) if target in tables else esc(target)
        text += f" {fields} refer to the table {table}."
    return text


def data_dictionary(ctx: SiteContext) -> None:
    """An index of the package's tables, and a page per table with every column: a reader looking up
    the table they downloaded finds its columns without scrolling past the other tables'."""
    resources = ctx.release.descriptor.get("resources", [])
    tables = {resource["name"] for resource in resources}
    version = esc(ctx.release.version)
    index_rows = []
    for resource in resources:
        name = resource["name"]
        schema = resource.get("schema", {})
        title = resource.get("title", name)
        index_rows.append(
            [
                link(f"{name}/", title) + f"<br><code>{esc(name)}</code>",
                esc(resource.get("description", "")),
                f"<code>{esc(resource.get('path', ''))}</code>",
                str(len(schema.get("fields", []))),
            ]
        )
        body = (
            f"# {esc(title)} (<code>{esc(name)}</code>)\n\n"
            f"<p>{esc(resource.get('description', ''))}</p>\n\n"
            f"<p>In the file <code>{esc(resource.get('path', ''))}</code> of release {version}. "
            f"{_keys_text(schema, tables)}</p>\n\n"
            + table_html(["Column", "Type", "Unit", "Description", "Allowed values"], _column_rows(schema))
            + "\n\nEvery table of the release is in the [data dictionary](../index.md); abbreviations and "
            "indicators are explained in the [glossary](../../glossary/index.md).\n"
        )
        ctx.write(dictionary_page(name), f"{title} ({name})", body, wide=True)
    body = (
        "# Data dictionary\n\nEvery table of release "
        f"{version}, generated from the package's <code>datapackage.json</code>: each table's page lists "
        "its columns, their types, units, meaning and allowed values. Abbreviations and indicators are "
        "explained in the [glossary](../glossary/index.md).\n\n"
        + table_html(
            ["Table", "What a row is", "File", "Columns"], index_rows, numeric=[False, False, False, True]
        )
    )
    ctx.write("data-dictionary/index.md", "Data dictionary", body)


def glossary(ctx: SiteContext) -> None:
    """Every abbreviation the site uses and every scorecard indicator, with its formula's section."""
    terms = [
        f'<dt id="{t.anchor}"><strong>{esc(t.term)}</strong>: {esc(t.expansion)}</dt>'
        f"<dd>{esc(t.definition)}</dd>"
        for t in sorted(words.glossary(), key=lambda t: t.term.lower())
    ]
    indicators = [
        [
            link(f"../methodology/#{_anchor(item.indicator)}", item.label),
            esc(PILLARS.get(item.pillar, item.pillar)),
            esc(unit_label(words.unit_words(item.unit, item.indicator))),
            esc(
                f"0 at {format_number(item.floor, '')}, 100 at {format_number(item.target, '')}"
                if item.floor is not None and item.target is not None
                else "0 if any, else 100"
            ),
        ]
        for item in load_rubric(1)
    ]
    body = f"""
# Glossary

The abbreviations and terms the site uses, and every scorecard indicator with a link to how it is
computed.

## Abbreviations and terms

<dl class="instep-glossary">{"".join(terms)}</dl>

## Scorecard indicators

{table_html(["Indicator (how it is computed)", "Pillar", "Unit", "Score"], indicators)}
"""
    ctx.write("glossary/index.md", "Glossary", body)


def bibtex(release: Release) -> str:
    for relative, _, _ in release.files():
        if relative.endswith(".bib"):
            return release.text_file(relative).strip()
    cff = yaml.safe_load(release.text_file("CITATION.cff") or "{}") or {}
    authors = (
        " and ".join(
            "{" + (a.get("name") or f"{a.get('family-names', '')}, {a.get('given-names', '')}") + "}"
            for a in cff.get("authors", [])
        )
        or "{INSTEP programme}"
    )
    key = f"{release.name.replace('-', '_')}_{release.version.replace('.', '_')}"
    return (
        f"@misc{{{key},\n  author = {authors},\n  title = {{{release.title}}},\n"
        f"  year = {{{release.date[:4]}}},\n  version = {{{release.version}}},\n"
        f"  note = {{Licence {release.license}}}\n}}"
    )


def _download_order(file: tuple[str, int, str]) -> tuple[int, str]:
    """The whole package first (zip, descriptor, database), then the tables and the rest."""
    relative = file[0]
    rank = 0 if relative.endswith(".zip") else 1 if relative == "datapackage.json" else 2
    rank = 3 if rank == 2 and not relative.endswith(".duckdb") else rank
    return rank, relative


def _files_table(release: Release, prefix: str) -> str:
    rows = [
        [
            f'<a href="{esc(prefix + relative)}">{esc(relative)}</a>',
            esc(format_number(size / 1024, "KiB", 1)),
            f"<code>{esc(digest)}</code>",
        ]
        for relative, size, digest in sorted(release.files(), key=_download_order)
    ]
    return table_html(["File", "Size", "SHA-256"], rows, [False, True, False])


def _citation_block(release: Release) -> str:
    cff = release.text_file("CITATION.cff").strip()
    return (
        f"Cite release {esc(release.version)} as:\n\n"
        f"> {esc(release.title)}, version {esc(release.version)}, released {esc(release.date)}. "
        f"Licence {esc(release.license)}.\n\n"
        f"**BibTeX**\n\n```text\n{bibtex(release)}\n```\n\n"
        + (f"**CITATION.cff**\n\n```text\n{cff}\n```\n" if cff else "")
    )


def downloads(ctx: SiteContext) -> None:
    r = ctx.release
    history = table_html(
        ["Version", "Released", "Title"],
        [
            [link(f"../releases/{x.version}/", x.version), esc(x.date), esc(x.title)]
            for x in reversed(ctx.releases)
        ],
    )
    body = f"""
# Downloads

The data behind every page, as a [Frictionless data package](../data-dictionary/index.md): CSV and
Parquet files, a DuckDB database, the package descriptor, its changelog and citation. Releases are
immutable; earlier versions stay downloadable below.

## Release {esc(r.version)} ({esc(r.date)})

Check a download with `sha256sum -c SHA256SUMS` in the release folder.

{_files_table(r, f"{r.version}/")}

## How to cite

{_citation_block(r)}

## Release history

{history}

{jsonld.script_tag(jsonld.dataset(r, ctx.site_url, "downloads/"))}
"""
    ctx.write("downloads/index.md", "Downloads", body)


def release_pages(ctx: SiteContext) -> None:
    rows = []
    for index, release in enumerate(ctx.releases):
        later = ctx.releases[index + 1] if index + 1 < len(ctx.releases) else None
        latest = release.version == ctx.release.version
        status = "latest" if latest else f"superseded by {later.version}" if later else ""
        superseded = ""
        if later is not None:
            newest = ctx.releases[-1]
            latest_note = (
                f" The latest is [release {esc(newest.version)}](../{newest.version}/index.md)."
                if newest.version != later.version
                else ""
            )
            superseded = (
                '!!! note "Superseded"\n\n'
                f"    This release is superseded by [release {esc(later.version)}]"
                f"(../{later.version}/index.md) of {esc(later.date)}.{latest_note} Its files stay "
                "downloadable below, as published.\n"
            )
        body = f"""
# Release {esc(release.version)}{" (latest)" if latest else ""}

{superseded}

<p>{esc(release.title)} · released {esc(release.date)} · identifier
<code>{esc(release.descriptor.get("id", ""))}</code> · licence {esc(release.license)}
{"· <strong>synthetic demonstration data</strong>" if release.synthetic else ""}</p>

{esc(release.descriptor.get("description", ""))}

## What changed

{changelog.changelog_html(release.text_file("CHANGELOG.md"), heading_level=3)}

## Downloads

{_files_table(release, f"../../downloads/{release.version}/")}

## How to cite

{_citation_block(release)}

{jsonld.script_tag(jsonld.dataset(release, ctx.site_url, f"releases/{release.version}/"))}
"""
        ctx.write(f"releases/{release.version}/index.md", f"Release {release.version}", body)
        rows.append([link(f"{release.version}/", release.version), esc(release.date), esc(status)])
    body = (
        "# Releases\n\nEvery published version, newest first. Each keeps its page and its files.\n\n"
        + table_html(["Version", "Released", "Status"], list(reversed(rows)))
    )
    ctx.write("releases/index.md", "Releases", body)


def data_quality(ctx: SiteContext) -> None:
    quality = ctx.table("data_quality")
    if quality.empty:
        ctx.write(
            "data-quality/index.md",
            "Data quality",
            "# Data quality\n\nNo data-quality table in this release.",
        )
        return
    names = dict(zip(ctx.parks["park_id"], ctx.parks["name"], strict=True))
    quality = quality.sort_values(["park_id", "year"])
    columns = [
        ("facility_months_reported", "Facility-months reported", "facility-months", 0),
        ("facility_months_expected", "Expected", "facility-months", 0),
        ("data_completeness_pct", "Completeness", "%", 1),
        ("submissions", "Submissions", "files", 0),
        ("first_time_acceptance_pct", "Accepted first time", "%", 1),
        ("rows_read", "Rows read", "rows", 0),
        ("rows_rejected", "Rows rejected", "rows", 0),
        ("rows_superseded", "Rows restated", "rows", 0),
    ]
    rows = []
    for _, row in quality.iterrows():
        key = {"park_id": row["park_id"], "year": row["year"]}
        rows.append(
            [link(f"../parks/{row['park_id']}/", names.get(row["park_id"], row["park_id"])), esc(row["year"])]
            + [
                traced_number("data_quality", key, column, row[column], unit, decimals)
                if column in quality.columns and str(row[column]).strip()
                else "n/a"
                for column, _, unit, decimals in columns
            ]
        )
    data = pd.DataFrame(
        {
            "label": [names.get(p, p) for p in quality["park_id"]],
            "year": list(quality["year"]),
            "value": [number(v) for v in quality["data_completeness_pct"]],
        }
    ).dropna(subset=["value"])
    figure = charts.Figure(
        slug="completeness",
        title="Data completeness by park and year",
        alt="Share of expected facility-months with accepted data: "
        + "; ".join(f"{row.label} {row.year}: {row.value:.1f} %" for row in data.itertuples())
        + ".",
        chart=charts.bars(data, "Park", "Completeness (%)", color="year"),
        data=data,
        table="data_quality",
        unit="%",
    )
    headers = ["Park", "Year"] + [label for _, label, _, _ in columns]
    table = table_html(headers, rows, [False, False] + [True] * len(columns))
    body = f"""
# Data quality

How complete and how clean the submissions behind each park's figures are. Completeness is the share of
expected facility-months (active facilities) with accepted data; first-time acceptance is the share of
submissions accepted without a correction.

{charts.render(figure, ctx.docs_dir / "data-quality", ctx.citation, ctx.renderer, subject="all-parks")}

{table}

{coverage_html(ctx, names)}
"""
    # Its two tables have ten columns and more: they get the width of the table of contents, so that
    # park names and headers wrap between words on a desktop instead of inside them.
    ctx.write("data-quality/index.md", "Data quality", body, charts=True, wide=True)


def coverage_html(ctx: SiteContext, names: dict[str, str]) -> str:
    """Per park and year: whether the year is complete and how much of each topic's totals is there."""
    coverage = ctx.table("park_coverage")
    annual = ctx.table("park_annual")
    if coverage.empty or annual.empty:
        return ""
    topics = sorted(set(coverage["topic"]) - {"all"})
    cells = {(r.park_id, r.year, r.topic): r for r in coverage.itertuples()}
    labels = {"complete": "complete", "year_to_date": "year to date", "incomplete": "incomplete"}
    rows = []
    for year_row in annual.sort_values(["park_id", "year"]).itertuples():
        park_id, year = year_row.park_id, year_row.year
        row = [
            link(f"../parks/{park_id}/", names.get(park_id, park_id)),
            esc(year),
            esc(
                f"{labels.get(year_row.year_status, year_row.year_status)}, {year_row.months_reported} of 12"
            ),
        ]
        for topic in ("all", *topics):
            cell = cells.get((park_id, year, topic))
            if cell is None:
                row.append("")
                continue
            key = {"park_id": park_id, "year": year, "topic": topic}
            shown = traced_number("park_coverage", key, "coverage_pct", cell.coverage_pct, "%", 1)
            flag = " (below threshold)" if str(cell.below_threshold).lower() == "true" else ""
            row.append(f"{shown}{esc(flag)}")
        rows.append(row)
    headers = ["Park", "Year", "Year status, months", "All facility-months", *topics]
    return (
        "## Coverage of park totals\n\n"
        f"Share of the expected facility-months inside each park total, by topic. A topic below "
        f"{COVERAGE_THRESHOLD_PCT} % is flagged and its indicators are not scored; a year is scored only "
        "when it has ended and its facility-months reach the threshold.\n\n"
        + table_html(headers, rows, [False, False, False] + [True] * (len(topics) + 1))
    )


# The explorer's filters, in the order they are shown: (column, label).
EXPLORER_FILTERS = (
    ("park_id", "Park"),
    ("facility_id", "Facility"),
    ("pillar", "Pillar"),
    ("component", "Indicator"),
    ("metric", "Metric"),
    ("parameter", "Wastewater parameter"),
)


def explorer(ctx: SiteContext) -> None:
    """The table explorer: a form that explorer.js runs over the release's own CSV files."""
    r = ctx.release
    tables: dict[str, dict[str, Any]] = {}
    listing = []
    for resource in r.descriptor.get("resources", []):
        path = str(resource.get("path", ""))
        if not path.endswith(".csv"):
            continue
        keys = resource.get("schema", {}).get("primaryKey", [])
        tables[resource["name"]] = {
            "title": resource.get("title", resource["name"]),
            "path": f"../downloads/{r.version}/{path}",
            "primaryKey": keys if isinstance(keys, list) else [keys],
        }
        size = (r.path / path).stat().st_size if (r.path / path).is_file() else 0
        listing.append(
            [
                link(f"../downloads/{r.version}/{path}", resource.get("title", resource["name"])),
                f"<code>{esc(resource['name'])}</code>",
                esc(format_number(size / 1024, "KiB", 0)),
            ]
        )
    filters = "".join(
        f'<label data-explorer-filter="{column}" hidden>{esc(label)}<select></select></label>'
        for column, label in EXPLORER_FILTERS
    )
    config = json.dumps(tables, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")
    body = f"""
# Table explorer

Pick a published table of release {esc(r.version)}, filter it by park, facility, period and indicator,
see the rows and download what you filtered as CSV. It runs in your browser on the release's own files
on this site: nothing is sent anywhere. Without JavaScript, download the tables below.

<form class="instep-filters instep-explorer" id="explorer" hidden aria-label="Explore a table">
<label>Table<select id="explorer-table"></select></label>
{filters}
<span class="instep-explorer__period" data-explorer-period hidden>
<label>From (period or year)<input id="explorer-from" type="text" placeholder="2024-01" size="9"></label>
<label>To<input id="explorer-to" type="text" placeholder="2024-12" size="9"></label>
</span>
<label>Columns (none chosen: all)<select id="explorer-columns" multiple size="4"></select></label>
<span><button type="button" class="md-button" id="explorer-download" disabled>
Download filtered CSV</button></span>
</form>

<p id="explorer-status" role="status" aria-live="polite"></p>

<div class="instep-explorer__rows" data-search-exclude tabindex="0" role="region" aria-label="Rows">
<table class="instep-explorer__table" id="explorer-rows"></table>
</div>

## The tables

{table_html(["Table", "Name", "Size"], listing, [False, False, True])}

<script type="application/json" id="explorer-tables">{config}</script>
"""
    ctx.write("explorer/index.md", "Table explorer", body, wide=True, explorer=True)


def write_reference_pages(ctx: SiteContext, settings: Any) -> None:
    methodology(ctx, settings)
    glossary(ctx)
    data_dictionary(ctx)
    downloads(ctx)
    release_pages(ctx)
    explorer(ctx)
    data_quality(ctx)
