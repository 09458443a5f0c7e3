"""The pages about the data itself: methodology, data dictionary, downloads and releases, data quality.

The methodology text comes from `instep.methodology` (the same rubric, factor and limit files the code
uses); the dictionary from the package schema; downloads and history from the release folders.
"""

from __future__ import annotations

import importlib
from typing import Any

import pandas as pd
import yaml

from instep.metadata.resources import COVERAGE_THRESHOLD_PCT
from instep.site import charts, jsonld
from instep.site.context import SiteContext
from instep.site.markup import esc, format_number, link, table_html, traced_number
from instep.site.pages import PILLARS
from instep.site.release import Release, number


def _anchor(component: str) -> str:
    return "indicator-" + component.replace("_", "-").replace(".", "-")


def methodology_markdown(gwp_set: str, rubric_version: int) -> str | None:
    """The methodology text from `instep.methodology`, or None when that module is not available."""
    try:
        module = importlib.import_module("instep.methodology")
    except ImportError:
        return None
    return str(module.methodology_markdown(gwp_set=gwp_set, rubric_version=rubric_version))


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
    text = methodology_markdown(gwp_set, rubric_version)
    if text is None:
        text = _reference_tables(ctx)
    else:
        # This page has its own title; the methodology's sections follow the scorecard indicators.
        lines = text.strip().splitlines()
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


def _reference_tables(ctx: SiteContext) -> str:
    parts = []
    for name in ("emission_factors", "zdhc_limits", "metrics"):
        frame = ctx.table(name)
        if frame.empty:
            continue
        resource = ctx.release.resource(name)
        parts.append(f"## {esc(resource.get('title', name))}\n\n{esc(resource.get('description', ''))}\n")
        rows = [[esc(v) for v in row] for row in frame.itertuples(index=False)]
        parts.append(table_html(list(frame.columns), rows))
    return "\n\n".join(parts)


def data_dictionary(ctx: SiteContext) -> None:
    sections = []
    for resource in ctx.release.descriptor.get("resources", []):
        schema = resource.get("schema", {})
        rows = []
        for field in schema.get("fields", []):
            constraints = field.get("constraints", {})
            rows.append(
                [
                    f"<code>{esc(field['name'])}</code>",
                    esc(field.get("type", "")),
                    esc(field.get("unit", "")),
                    esc(field.get("description", "")),
                    esc(", ".join(f"{k}: {v}" for k, v in constraints.items())),
                ]
            )
        keys = schema.get("primaryKey", [])
        foreign = [
            f"{', '.join(fk.get('fields', []))} → {fk.get('reference', {}).get('resource', '')}"
            for fk in schema.get("foreignKeys", [])
        ]
        sections.append(
            f'<h2 id="{esc(resource["name"])}">{esc(resource.get("title", resource["name"]))} '
            f"(<code>{esc(resource['name'])}</code>)</h2>\n\n"
            f"<p>{esc(resource.get('description', ''))}</p>\n\n"
            f"<p>File <code>{esc(resource.get('path', ''))}</code> · primary key "
            f"<code>{esc(', '.join(keys) if isinstance(keys, list) else keys)}</code>"
            + (f" · foreign keys {esc('; '.join(foreign))}" if foreign else "")
            + "</p>\n\n"
            + table_html(["Column", "Type", "Unit", "Description", "Constraints"], rows)
        )
    body = (
        "# Data dictionary\n\nEvery table and column of release "
        f"{esc(ctx.release.version)}, generated from the package's <code>datapackage.json</code>.\n\n"
        + "\n\n".join(sections)
    )
    ctx.write("data-dictionary/index.md", "Data dictionary", body)


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
    for release in ctx.releases:
        changelog = release.text_file("CHANGELOG.md").strip()
        lines = changelog.splitlines()
        if lines and lines[0].startswith("# "):
            lines = lines[1:]
        changelog = "\n".join(("##" + line if line.startswith("#") else line) for line in lines)
        latest = " (latest)" if release.version == ctx.release.version else ""
        body = f"""
# Release {esc(release.version)}{latest}

{esc(release.title)} · released {esc(release.date)} · identifier
<code>{esc(release.descriptor.get("id", ""))}</code> · licence {esc(release.license)}
{"· **synthetic demonstration data**" if release.synthetic else ""}

{esc(release.descriptor.get("description", ""))}

## Files

{_files_table(release, f"../../downloads/{release.version}/")}

## Changes

{changelog or "No changelog."}

## How to cite

{_citation_block(release)}

{jsonld.script_tag(jsonld.dataset(release, ctx.site_url, f"releases/{release.version}/"))}
"""
        ctx.write(f"releases/{release.version}/index.md", f"Release {release.version}", body)
        rows.append(
            [link(f"{release.version}/", release.version), esc(release.date), esc(latest.strip(" ()"))]
        )
    body = (
        "# Releases\n\nEvery published version, newest first. Each keeps its page and its files.\n\n"
        + table_html(["Version", "Released", ""], list(reversed(rows)))
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
    ctx.write("data-quality/index.md", "Data quality", body, charts=True)


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


def write_reference_pages(ctx: SiteContext, settings: Any) -> None:
    methodology(ctx, settings)
    data_dictionary(ctx)
    downloads(ctx)
    release_pages(ctx)
    data_quality(ctx)
