"""The pages about places: home, the parks list and map, one page per park and per public facility.

URLs are stable across releases: /parks/<park_id>/ and /facilities/<facility_id>/.
"""

from __future__ import annotations

import re

import pandas as pd

from instep.disclosure import rules as disclosure_rules
from instep.scoring import NOT_SCORED_YET, load_rubric
from instep.site import changelog, charts, geo, trends, words
from instep.site.context import FACILITY_TYPES, SHARED_TYPES, SiteContext
from instep.site.markup import esc, format_number, link, table_html, traced_number
from instep.site.release import number


def _pillar_labels() -> dict[str, str]:
    """Pillar code -> label, from the rubric file the scores were computed with (one definition)."""
    labels = {item.pillar: item.pillar_label for item in load_rubric(1)}
    return {**labels, "overall": "Overall"}


PILLARS = _pillar_labels()
SCORE_UNIT = "/ 100"


def latest_year(ctx: SiteContext) -> str | None:
    """The latest complete year (park_annual.year_status) of any park: the year headlined and scored."""
    annual = ctx.table("park_annual")
    if annual.empty:
        return None
    complete = annual[annual["year_status"] == "complete"]
    return str(max(complete["year"], key=int)) if len(complete) else None


def year_to_date(ctx: SiteContext) -> tuple[str, int, str] | None:
    """(year, months with data, year_status) of the year after the latest complete one, if any."""
    annual = ctx.table("park_annual")
    if annual.empty:
        return None
    complete = latest_year(ctx)
    later = annual[annual["year"].astype(int) > int(complete or 0)]
    if later.empty:
        return None
    year = str(max(later["year"], key=int))
    monthly = ctx.table("park_monthly")
    months = monthly[(monthly["year"] == year) & (monthly["facilities_reporting"].astype(int) > 0)]
    statuses = set(later.loc[later["year"] == year, "year_status"])
    status = "year_to_date" if "year_to_date" in statuses else "incomplete"
    return year, int(months["period"].nunique()), status


WITHHELD_TEXT = "withheld to protect facilities that do not publish their own figures"


def _withheld(row: pd.Series) -> set[str]:
    return disclosure_rules.withheld_fields(str(row.get("suppressed_fields") or ""))


def _programme_year(ctx: SiteContext, year: str) -> pd.Series | None:
    """The programme's row of the published programme_annual for `year` (None without one)."""
    table = ctx.table("programme_annual")
    if table.empty:
        return None
    rows = table[(table["area"] == "programme") & (table["year"].astype(str) == str(year))]
    return rows.iloc[0] if len(rows) else None


def _number(row: pd.Series | None, column: str) -> float | None:
    if row is None:
        return None
    value = pd.to_numeric(row.get(column), errors="coerce")
    return None if pd.isna(value) else float(value)


def headline_figures(ctx: SiteContext, year: str, scope: str | None = None) -> list[tuple[str, str]]:
    """(figure, label) pairs for the home page, read from the published programme_annual: its sums and
    ratios cover the parks that withhold none of a group's figures, and the label names how many parks
    are left out (adding them back would need the withheld value)."""
    row = _programme_year(ctx, year)
    scope = scope or f"in {year}"
    reporting = int(_number(row, "parks_reporting") or 0)

    def label(text: str, included: str) -> str:
        left_out = reporting - int(_number(row, included) or 0) if row is not None else 0
        if not left_out:
            return f"{text} {scope}"
        parks = "park" if left_out == 1 else "parks"
        return f"{text} {scope}, without {left_out} {parks} whose total is {WITHHELD_TEXT}"

    scope1, scope2 = _number(row, "scope1_t_co2e"), _number(row, "scope2_location_t_co2e")
    ghg = None if scope1 is None and scope2 is None else (scope1 or 0) + (scope2 or 0)
    public = ctx.facilities
    return [
        (format_number(len(ctx.parks), "", 0), "industrial parks"),
        (format_number(len(public), "", 0), "public facilities (others report only into park totals)"),
        (
            format_number(ghg, "t CO2e", 0),
            label("Scope 1 + 2 (location-based) emissions", "ghg_parks_included"),
        ),
        (
            format_number(_number(row, "renewable_electricity_share_pct"), "%", 1),
            label("renewable share of electricity", "electricity_parks_included"),
        ),
        (
            format_number(_number(row, "water_withdrawal_m3"), "m3", 0),
            label("water withdrawn", "water_parks_included"),
        ),
        (
            format_number(_number(row, "zdhc_foundational_share_pct"), "%", 1),
            label("wastewater results meeting ZDHC foundational limits", "wastewater_parks_included"),
        ),
    ]


def _figure_list(figures: list[tuple[str, str]]) -> str:
    items = "".join(
        f'<li><span class="instep-figure">{esc(value)}</span>'
        f'<span class="instep-label">{esc(label)}</span></li>'
        for value, label in figures
    )
    return f'<ul class="instep-headlines">{items}</ul>'


def home(ctx: SiteContext) -> None:
    r = ctx.release
    year = latest_year(ctx)
    headlines = (
        _figure_list(headline_figures(ctx, year)) + _headline_grid_note(ctx, year)
        if year
        else "<p>No year is complete yet: figures are headlined once a year has ended and its reports "
        "are in.</p>"
    )
    partial = year_to_date(ctx)
    if partial:
        ytd, months, status = partial
        # a part of a year is shown apart and says so: it is not comparable with a whole year
        if status == "year_to_date":
            title, note, label = "Year to date", f"{months} of 12 months so far", "year to date"
        else:
            title, note, label = "Incomplete year", f"{months} of 12 months reported", "incomplete"
        headlines += f"\n\n## {title} {esc(ytd)}\n\n<p>{note}; not scored yet.</p>\n\n" + _figure_list(
            headline_figures(ctx, ytd, f"in {ytd}, {label} ({months} of 12 months)")[2:]
        )
    scores = _overall_scores(ctx, year)
    changes = whats_new_html(ctx)
    body = f"""
# Sustainability data of textile and apparel industrial parks

Open, versioned data on energy, greenhouse gas emissions, water, wastewater, chemicals and working
conditions in textile and apparel industrial parks, park by park and facility by facility. Every number
links to [how it was computed](methodology/index.md) and can be [downloaded](downloads/index.md) with
its release.

This site shows release **{esc(r.version)}** of {esc(r.date)}.

## Headline figures{f" {esc(year)}" if year else ""}

{headlines}

{scores}

## What is new in release {esc(r.version)}

{changes}

[All changes and earlier releases](releases/index.md) · [Download the data](downloads/index.md) ·
[Parks and map](parks/index.md)
"""
    ctx.write("index.md", "Home", body, charts=bool(scores))


def _headline_grid_note(ctx: SiteContext, year: str) -> str:
    """Which parks' Scope 2 in the headline year uses an earlier year's grid factor, or ''."""
    annual = ctx.table("park_annual")
    if annual.empty or "grid_factor_fallback" not in annual.columns:
        return ""
    rows = annual[(annual["year"] == year) & (annual["grid_factor_fallback"].str.lower() == "true")]
    if rows.empty:
        return ""
    names = dict(zip(ctx.parks["park_id"], ctx.parks["name"], strict=True))
    parks = "; ".join(
        f"{esc(names.get(r.park_id, r.park_id))} (factor of {esc(r.grid_factor_year)})"
        for r in rows.itertuples()
    )
    return (
        '\n\n<p class="instep-caveat" role="note"><strong>Note:</strong> no grid emission factor is '
        f"published yet for {esc(year)} in every country, so the Scope 2 emissions of these parks use the "
        f"latest earlier one: {parks} "
        '(see <a href="methodology/#grid-emission-factors">the methodology</a>).</p>'
    )


def _overall_scores(ctx: SiteContext, year: str | None) -> str:
    cards = ctx.table("scorecards")
    if cards.empty or year is None:
        return ""
    overall = cards[(cards["year"] == year) & (cards["component"] == "overall")]
    if overall.empty:
        return ""
    names = dict(zip(ctx.parks["park_id"], ctx.parks["name"], strict=True))
    data = pd.DataFrame(
        {
            "label": [names.get(p, p) for p in overall["park_id"]],
            "park_id": list(overall["park_id"]),
            "value": [number(v) for v in overall["score"]],
            "year": year,
        }
    ).dropna(subset=["value"])
    if data.empty:
        return ""
    figure = charts.Figure(
        slug="overall-scores",
        title=f"Overall park scores, {year}",
        alt="Overall scorecard result of each park in "
        + year
        + ": "
        + "; ".join(f"{row.label} {row.value:.1f} out of 100" for row in data.itertuples())
        + ".",
        chart=charts.bars(data[["label", "value"]], "Park", "Overall score (0–100)"),
        data=data,
        table="scorecards",
        unit="points",
    )
    return f"## Park scores {esc(year)}\n\n" + charts.render(
        figure, ctx.docs_dir, ctx.citation, ctx.renderer, subject="all-parks"
    )


WHAT_IS_NEW_ROWS = 10


def _keep_changed_tables(section: changelog.Section) -> None:
    """The Rows section cut to the tables that changed: on a phone, one card per table buries the few
    that did. The release page keeps every table."""
    # the cells after the table's name and its row count: added, removed, changed, values restated
    changed = [row for row in section.rows if any(cell.strip() not in ("", "0") for cell in row[2:])]
    unchanged = len(section.rows) - len(changed)
    section.rows = changed
    if not changed:
        section.headers = []
        section.text.append("No table has rows added, removed or changed.")
    elif unchanged:
        section.text.append(f"The {unchanged} other tables are unchanged (all of them on the release page).")


def whats_new_html(ctx: SiteContext) -> str:
    """The latest release's changes: totals, the changelog's tables (restated values cut to the first
    few) and a link to the release's own page."""
    r = ctx.release
    text = r.text_file("CHANGELOG.md")
    page = f"releases/{r.version}/"
    if not text.strip():
        return f"<p>No changelog in this release. [Release {esc(r.version)}]({page})</p>"
    sections = changelog.parse(text)
    parts = []
    for section in sections:
        if section.title == changelog.ROWS_SECTION:
            _keep_changed_tables(section)
        if section.title == changelog.CHANGED_ROWS_SECTION and len(section.rows) > WHAT_IS_NEW_ROWS:
            more = len(section.rows) - WHAT_IS_NEW_ROWS
            section.rows = section.rows[:WHAT_IS_NEW_ROWS]
            section.text.append(
                f"The first {WHAT_IS_NEW_ROWS} are listed here, {more} more on the release page."
            )
        parts.append(changelog.section_html(section, heading_level=3))
    return (
        "\n\n".join(parts)
        + f'\n\n<p><a href="{esc(page)}">Release {esc(r.version)}: all changes, restated values, downloads '
        "and citation</a></p>"
    )


def parks_index(ctx: SiteContext) -> None:
    parks = ctx.parks
    year = latest_year(ctx)
    figure = charts.Figure(
        slug="parks-map",
        title="Where the parks are",
        alt="Map of the parks: "
        + "; ".join(
            f"{row.name} in {geo.country_names().get(row.country, row.country)} "
            f"({float(row.lat):.2f}°, {float(row.lon):.2f}°)"
            for row in parks.itertuples()
        )
        + ".",
        chart=geo.parks_map(parks),
        data=parks[["park_id", "name", "country", "region", "lat", "lon"]],
        table="parks",
    )
    units = ctx.release.field_units("parks")
    facilities = ctx.facilities
    cards = ctx.table("scorecards")
    rows = []
    for park in parks.itertuples():
        overall = (
            cards[
                (cards["park_id"] == park.park_id)
                & (cards["year"] == year)
                & (cards["component"] == "overall")
            ]
            if not cards.empty
            else cards
        )
        score = (
            traced_number(
                "scorecards", _card_key(overall.iloc[0]), "score", overall.iloc[0]["score"], SCORE_UNIT, 1
            )
            if len(overall)
            else "n/a"
        )
        rows.append(
            [
                link(f"{park.park_id}/", park.name),
                esc(f"{geo.country_names().get(park.country, park.country)}, {park.region}"),
                traced_number(
                    "parks",
                    {"park_id": park.park_id},
                    "area_ha",
                    park.area_ha,
                    units.get("area_ha") or "ha",
                    0,
                ),
                esc(park.established),
                esc(str(int((facilities["park_id"] == park.park_id).sum()))),
                score,
            ]
        )
    table = table_html(
        [
            "Park",
            "Country, region",
            "Area",
            "Established",
            "Public facilities",
            f"Overall score {year or ''}",
        ],
        rows,
        [False, False, True, False, True, True],
    )
    body = f"""
# Parks

{charts.render(figure, ctx.docs_dir / "parks", ctx.citation, ctx.renderer)}

{table}

Country outlines: Natural Earth (public domain), simplified; boundaries are indicative.
"""
    ctx.write("parks/index.md", "Parks", body, charts=True)


def _card_key(row: pd.Series) -> dict[str, str]:
    return {k: row[k] for k in ("park_id", "year", "pillar", "component")}


def scorecard_html(cards: pd.DataFrame, year: str, methodology: str) -> str:
    """The scorecard of one park and year: every indicator with value, floor, target, weight and score."""
    rows = []
    order = list(PILLARS)
    cards = cards.assign(_p=[order.index(p) if p in order else 99 for p in cards["pillar"]])
    cards = cards.assign(_c=[0 if c == "pillar" else 1 for c in cards["component"]])
    for _, card in cards.sort_values(["_p", "_c"], kind="stable").iterrows():
        if card["component"] == "overall":
            continue
        key = _card_key(card)
        unit = words.unit_words(card.get("unit", ""), str(card.get("component", "")))
        is_pillar = card["component"] == "pillar"
        if is_pillar:
            name = f"<strong>{esc(PILLARS.get(card['pillar'], card['pillar']))}</strong>"
        else:
            anchor = f"{methodology}#indicator-{card['component'].replace('_', '-').replace('.', '-')}"
            name = link(anchor, card["label"] or card["component"])

        def traced(field: str, unit_: str, decimals: int | None = None, key=key, card=card) -> str:
            raw = card.get(field, "")
            return traced_number("scorecards", key, field, raw, unit_, decimals) if str(raw).strip() else ""

        withheld = str(card.get("na_reason") or "").startswith("withheld")
        missing = (
            '<span class="instep-withheld">withheld</span>'
            if withheld
            else '<span class="instep-na">n/a</span>'
        )
        value = traced("value", unit) if not is_pillar else ""
        if not is_pillar and not str(card.get("value", "")).strip():
            value = missing
        score = traced("score", SCORE_UNIT, 1)
        if card.get("status") == NOT_SCORED_YET:
            score = f'<span class="instep-na">{NOT_SCORED_YET}</span>'
        elif card.get("status") == "n/a" or not str(card.get("score", "")).strip():
            score = missing
        note = esc(card.get("na_reason", "")) if card.get("status") == "n/a" or card.get("na_reason") else ""
        rows.append(
            [
                name,
                value,
                traced("floor", unit) if not is_pillar else "",
                traced("target", unit) if not is_pillar else "",
                traced("weight", "%", 0),
                score,
                note,
            ]
        )
    return table_html(
        ["Indicator", "Value", "Floor (score 0)", "Target (score 100)", "Weight", "Score", "Why not scored"],
        rows,
        [False, True, True, True, True, True, False],
    )


def withheld_html(monthly: pd.DataFrame, annual: pd.DataFrame) -> str:
    """Which of the park's figures disclosure control withholds, and in how many months and years."""
    counts: dict[str, list[int]] = {}
    for frame, slot in ((monthly, 0), (annual, 1)):
        for _, row in frame.iterrows():
            for column in _withheld(row):
                counts.setdefault(column, [0, 0])[slot] += 1
    if not counts:
        return ""
    rows = [
        [f"<code>{esc(column)}</code>", esc(f"{m} of {len(monthly)}"), esc(f"{y} of {len(annual)}")]
        for column, (m, y) in sorted(counts.items())
    ]
    return (
        f"<p>Some totals of this park are <strong>{WITHHELD_TEXT}</strong>: with too few of them in a "
        "total, or one dominating it, the total minus the published facilities would be their own figure "
        '(see the <a href="../../methodology/#disclosure-control">methodology</a>). A withheld figure '
        "was reported: it is not missing data and never zero. The charts leave those months out; the "
        "tables of the release name each withheld cell and its rule (<code>suppressed_fields</code>, "
        "<code>suppression_rules</code>).</p>\n\n"
        + table_html(["Figure", "Months withheld", "Years withheld"], rows, [False, True, True])
    )


def grid_factor_caveat(rows: pd.DataFrame, country: str, period: str = "year") -> str:
    """A note for the years (or months) whose Scope 2 uses an earlier year's grid factor, or ''."""
    if rows.empty or "grid_factor_fallback" not in rows.columns:
        return ""
    fallback = rows[rows["grid_factor_fallback"].astype(str).str.lower() == "true"]
    if fallback.empty:
        return ""
    by_factor: dict[str, list[str]] = {}
    for row in fallback.itertuples():
        by_factor.setdefault(str(row.grid_factor_year), []).append(str(getattr(row, period)))
    parts = [
        f"{_span(sorted(set(keys)))} use{'s' if len(set(keys)) == 1 else ''} the factor of {esc(year)}"
        for year, keys in sorted(by_factor.items())
    ]
    return (
        '<p class="instep-caveat" role="note"><strong>Note:</strong> no grid emission factor of '
        f"{esc(geo.country_names().get(country, country))} is published yet for every year shown, so "
        f"Scope 2 (location-based) emissions of {'; '.join(parts)}, the latest available "
        '(see <a href="../../methodology/#grid-emission-factors">the methodology</a>).</p>'
    )


def _span(keys: list[str]) -> str:
    if len(keys) == 1:
        return esc(keys[0])
    return f"{esc(keys[0])} to {esc(keys[-1])}"


def park_page(ctx: SiteContext, park: pd.Series) -> None:
    park_id = park["park_id"]
    directory = ctx.docs_dir / "parks" / park_id
    units = ctx.release.field_units("parks")
    facts = table_html(
        ["Park id", "Country", "Region", "Operator", "Area", "Established"],
        [
            [
                esc(park_id),
                esc(geo.country_names().get(park["country"], park["country"])),
                esc(park["region"]),
                esc(park["operator"]),
                traced_number(
                    "parks", {"park_id": park_id}, "area_ha", park["area_ha"], units.get("area_ha") or "ha", 0
                ),
                esc(park["established"]),
            ]
        ],
        [False, False, False, False, True, False],
    )
    cards = ctx.table("scorecards")
    cards = cards[cards["park_id"] == park_id] if not cards.empty else cards
    years = sorted(set(cards["year"]), key=int, reverse=True) if not cards.empty else []
    methodology = "../../methodology/"
    sections = []
    if years:
        year = years[0]
        latest = cards[cards["year"] == year]
        overall = latest[latest["component"] == "overall"]
        overall_text = (
            traced_number(
                "scorecards", _card_key(overall.iloc[0]), "score", overall.iloc[0]["score"], SCORE_UNIT, 1
            )
            if len(overall) and str(overall.iloc[0]["score"]).strip()
            else "n/a"
        )
        heading = f"Scorecard {esc(year)}"
        if len(overall) and overall.iloc[0]["status"] == NOT_SCORED_YET:
            # a year to date: its values are shown, labelled, and nothing is scored
            overall_text = f"{NOT_SCORED_YET} ({esc(overall.iloc[0]['na_reason'])})"
            heading += f" ({esc(str(overall.iloc[0]['na_reason']).split(':')[0])})"
        pillar_rows = latest[latest["component"] == "pillar"]
        withheld_pillars = sum(str(r).startswith("withheld") for r in pillar_rows["na_reason"])
        if withheld_pillars:
            overall_text += (
                f" from {len(pillar_rows) - withheld_pillars} of {len(pillar_rows)} pillars: the others are "
                f"{WITHHELD_TEXT}"
            )
        rubric = latest["rubric_version"].iloc[0] if "rubric_version" in latest else ""
        gwp = latest["gwp_set"].iloc[0] if "gwp_set" in latest else ""
        sections.append(
            f"## {heading}\n\n"
            f"<p>Overall score: <strong>{overall_text}</strong> (rubric version {esc(rubric)}, "
            f"GWP set {esc(str(gwp).upper())}).</p>\n\n"
            "Each indicator scores 0 at its floor and 100 at its target, linearly in between and clamped; "
            "an indicator without data is n/a and left out of its pillar's mean. A pillar is the mean of its "
            "indicators, the overall score the weighted mean of the pillars with data. "
            f"[How each indicator is computed]({methodology.replace('../../', '../../')}index.md).\n\n"
            + scorecard_html(latest, year, methodology)
        )
        for earlier in years[1:]:
            sections.append(
                f'<details class="instep-earlier"><summary>Scorecard {esc(earlier)}</summary>'
                + scorecard_html(cards[cards["year"] == earlier], earlier, methodology)
                + "</details>"
            )
    monthly = ctx.table("park_monthly")
    monthly = monthly[monthly["park_id"] == park_id] if not monthly.empty else monthly
    figures = trends.trend_figures(monthly, park["name"], "park_monthly") if not monthly.empty else []
    trend_html = "\n\n".join(
        charts.render(f, directory, ctx.citation, ctx.renderer, subject=park_id) for f in figures
    )
    annual = ctx.table("park_annual")
    annual = annual[annual["park_id"] == park_id] if not annual.empty else annual
    withheld = withheld_html(monthly, annual)
    caveat = grid_factor_caveat(annual, park["country"])
    facilities = ctx.facilities
    facilities = facilities[facilities["park_id"] == park_id]
    shared = facilities[facilities["type"].isin(SHARED_TYPES)]
    own = facilities[~facilities["type"].isin(SHARED_TYPES)]
    shared_html = (
        table_html(
            ["Shared facility", "Type"],
            [
                [link(f"../../facilities/{f.facility_id}/", f.name), esc(SHARED_TYPES[f.type])]
                for f in shared.itertuples()
            ],
        )
        if len(shared)
        else "<p>This park reports no shared facilities.</p>"
    )
    own_html = (
        table_html(
            ["Facility", "Type", "Sector", "Open Supply Hub id"],
            [
                [
                    link(f"../../facilities/{f.facility_id}/", f.name),
                    esc(FACILITY_TYPES.get(f.type, f.type)),
                    esc(str(f.sector).replace("_", " ")),
                    esc(f.os_id),
                ]
                for f in own.itertuples()
            ],
        )
        if len(own)
        else "<p>No facility of this park publishes its own figures.</p>"
    )
    quality = _quality_rows(ctx, park_id)
    body = f"""
# {esc(park["name"])}

{facts}

{caveat}

{chr(10).join(s + chr(10) for s in sections)}

## Trends

Monthly totals of all facilities in the park, including those that report only into park totals.
Shared plants are counted once: steam bought from a central boiler is in the boiler's fuel.

{withheld}

{trend_html}

## Shared facilities

{shared_html}

## Facilities

Facilities that publish their own figures. Others report only into the park totals above.

{own_html}

## Data quality

{quality}
"""
    ctx.write(f"parks/{park_id}/index.md", str(park["name"]), body, charts=bool(figures), wide=True)


def _quality_rows(ctx: SiteContext, park_id: str) -> str:
    quality = ctx.table("data_quality")
    if quality.empty:
        return "<p>No data-quality figures in this release.</p>"
    quality = quality[quality["park_id"] == park_id].sort_values("year")
    rows = []
    for _, row in quality.iterrows():
        key = {"park_id": park_id, "year": row["year"]}
        rows.append(
            [
                esc(row["year"]),
                traced_number(
                    "data_quality",
                    key,
                    "facility_months_reported",
                    row["facility_months_reported"],
                    "facility-months",
                    0,
                ),
                traced_number(
                    "data_quality",
                    key,
                    "facility_months_expected",
                    row["facility_months_expected"],
                    "facility-months",
                    0,
                ),
                traced_number(
                    "data_quality", key, "data_completeness_pct", row["data_completeness_pct"], "%", 1
                ),
                traced_number(
                    "data_quality", key, "first_time_acceptance_pct", row["first_time_acceptance_pct"], "%", 1
                ),
            ]
        )
    return (
        table_html(
            ["Year", "Reported", "Expected", "Completeness", "First-time acceptance"],
            rows,
            [False, True, True, True, True],
        )
        + '\n\n<p><a href="../../data-quality/">All parks\' data quality</a></p>'
    )


# Columns of a facility's latest month shown as a table (column, label).
LATEST_MONTH = (
    ("energy_total_gj", "Energy use"),
    ("renewable_electricity_share_pct", "Renewable share of electricity"),
    ("scope1_t_co2e", "Scope 1 emissions"),
    ("scope2_location_t_co2e", "Scope 2 emissions (location-based)"),
    ("ghg_intensity_kg_co2e_per_kg", "GHG intensity"),
    ("water_withdrawal_m3", "Water withdrawal"),
    ("water_recycling_rate_pct", "Water recycling rate"),
    ("zdhc_foundational_share_pct", "Wastewater results meeting ZDHC foundational"),
    ("mrsl_conformance_pct", "MRSL conformance"),
    ("workers_total", "Workers"),
    ("women_share_workforce_pct", "Women in the workforce"),
    ("ltifr", "LTIFR"),
)


def facility_page(ctx: SiteContext, facility: pd.Series, park_names: dict[str, str]) -> None:
    facility_id = facility["facility_id"]
    directory = ctx.docs_dir / "facilities" / facility_id
    park_id = facility["park_id"]
    facts = table_html(
        ["Facility id", "Park", "Type", "Sector", "Open Supply Hub id", "Active"],
        [
            [
                esc(facility_id),
                link(f"../../parks/{park_id}/", park_names.get(park_id, park_id)),
                esc(FACILITY_TYPES.get(facility["type"], facility["type"])),
                esc(str(facility["sector"]).replace("_", " ")),
                esc(facility["os_id"]),
                esc(f"{facility['active_from']} – {facility.get('active_to') or 'today'}"),
            ]
        ],
    )
    monthly = ctx.rows_of("facility_monthly", "facility_id", facility_id)
    overview = trends.facility_overview(monthly, facility["name"], "facility_monthly")
    figures = [overview] if overview is not None else []
    trend_html = "\n\n".join(
        charts.render(f, directory, ctx.citation, ctx.renderer, subject=facility_id) for f in figures
    )
    latest_html = "<p>No monthly figures published for this facility in this release.</p>"
    if not monthly.empty:
        last = monthly.sort_values("period").iloc[-1]
        units = ctx.release.field_units("facility_monthly")
        key = {"facility_id": facility_id, "period": last["period"]}
        rows = [
            [
                esc(label),
                traced_number(
                    "facility_monthly", key, column, last[column], words.unit_words(units.get(column), column)
                ),
            ]
            for column, label in LATEST_MONTH
            if column in monthly.columns and str(last[column]).strip()
        ]
        latest_html = f"<p>Reported for {esc(last['period'])}.</p>" + table_html(
            ["Indicator", "Value"], rows, [False, True]
        )
    samples = _wastewater_samples(ctx, facility_id)
    body = f"""
# {esc(facility["name"])}

{facts}

## Latest month

{latest_html}

## Trends

{trend_html or "<p>No monthly series for this facility.</p>"}

The breakdowns by source (fuels and grid, water sources) are on the
[park page](../../parks/{park_id}/index.md) for the park's totals, and in the `facility_monthly` table of the
[downloads](../../downloads/index.md) for every facility.

## Latest wastewater results

{samples}
"""
    # Facilities are found through the facilities index, one searchable row each. A search entry per
    # facility page would make the index readers download grow with the programme (tens of megabytes
    # at national scale), and indexing them was a third of the site build.
    ctx.write(
        f"facilities/{facility_id}/index.md",
        str(facility["name"]),
        body,
        charts=bool(figures),
        wide=True,
        searchable=False,
    )


def _wastewater_samples(ctx: SiteContext, facility_id: str) -> str:
    if ctx.table("wastewater_results").empty:
        return "<p>No wastewater results in this release.</p>"
    results = ctx.rows_of("wastewater_results", "facility_id", facility_id)
    if results.empty:
        return "<p>No discharge wastewater results published for this facility.</p>"
    last_date = max(results["sample_date"])
    latest = results[results["sample_date"] == last_date].sort_values("parameter")
    rows = []
    for _, row in latest.iterrows():
        key = {"facility_id": facility_id, "sample_date": last_date, "metric": row["metric"]}
        censored = str(row.get("censored", "")).lower() == "true"
        value = traced_number("wastewater_results", key, "value", row["value"], row["unit"])
        rows.append(
            [
                esc(row["parameter"]),
                ("&lt;\u202f" if censored else "") + value,
                traced_number(
                    "wastewater_results", key, "limit_foundational", row["limit_foundational"], row["unit"]
                )
                if str(row["limit_foundational"]).strip()
                else "",
                esc(str(row["zdhc_level"]).replace("_", " ")),
            ]
        )
    return f"<p>Discharge sample of {esc(last_date)}.</p>" + table_html(
        ["Parameter", "Result", "ZDHC foundational limit", "ZDHC level met"], rows, [False, True, True, False]
    )


def _options(label: str, name: str, values: dict[str, str]) -> str:
    options = "".join(
        f'<option value="{esc(value)}">{esc(text)}</option>'
        for value, text in sorted(values.items(), key=lambda item: item[1])
    )
    return (
        f'<label>{esc(label)}<select data-filter="{esc(name)}">'
        f'<option value="">All</option>{options}</select></label>'
    )


def facilities_index(ctx: SiteContext, park_names: dict[str, str]) -> None:
    countries = dict(zip(ctx.parks["park_id"], ctx.parks["country"], strict=True))
    country_names = geo.country_names()
    facilities = ctx.facilities
    rows, attributes = [], []
    for f in facilities.itertuples():
        country = countries.get(f.park_id, "")
        sector = str(f.sector or "").replace("_", " ")
        rows.append(
            [
                link(f"{f.facility_id}/", f.name),
                esc(f.facility_id),
                esc(f.os_id or ""),
                link(f"../parks/{f.park_id}/", park_names.get(f.park_id, f.park_id)),
                esc(country_names.get(country, country)),
                esc(FACILITY_TYPES.get(f.type, f.type)),
                esc(sector),
            ]
        )
        attributes.append((f.park_id, country, f.type, sector))
    table = table_html(
        ["Facility", "Facility id", "Open Supply Hub id", "Park", "Country", "Type", "Sector"],
        rows,
        attrs='data-filterable="facility-filters"',
    )
    # Each row names its park, country, type and sector for the filters (listing.js).
    rows_html = iter(attributes)
    table = re.sub(
        r"<tr>(?=<td)",
        lambda _: '<tr data-park="{}" data-country="{}" data-type="{}" data-sector="{}">'.format(
            *(esc(v).lower() for v in next(rows_html))
        ),
        table,
    )
    filters = (
        '<form class="instep-filters" id="facility-filters" hidden aria-label="Filter the facilities">'
        + '<label>Name, id or OS ID contains<input type="search" data-filter="text"></label>'
        + _options("Park", "park", {k.lower(): v for k, v in park_names.items()})
        + _options(
            "Country",
            "country",
            {c.lower(): country_names.get(c, c) for c in set(countries.values())},
        )
        + _options("Type", "type", {t.lower(): FACILITY_TYPES.get(t, t) for t in set(facilities["type"])})
        + _options(
            "Sector",
            "sector",
            {s.lower(): s for s in {str(v).replace("_", " ") for v in facilities["sector"]} if s},
        )
        + '<output class="instep-filter-status" aria-live="polite"></output></form>'
    )
    body = f"""
# Facilities

Facilities that publish their own figures, including the parks' shared plants. Facilities that asked
for aggregate-only disclosure appear only inside their park's totals. Type a facility's name, id or
Open Supply Hub id (OS ID) into the site search to go to its page.

{filters}

<div data-search-exclude markdown>

{table}

</div>
"""
    ctx.write("facilities/index.md", "Facilities", body, wide=True)


def comparison_page(ctx: SiteContext) -> None:
    """Every park side by side on each scorecard indicator, one table per year (latest first)."""
    cards = ctx.table("scorecards")
    parks = ctx.parks
    if cards.empty:
        ctx.write("compare/index.md", "Compare parks", "# Compare parks\n\nNo scorecards in this release.")
        return
    years = sorted(set(cards["year"]), key=int, reverse=True)
    names = dict(zip(parks["park_id"], parks["name"], strict=True))
    park_ids = [p for p in parks["park_id"] if p in set(cards["park_id"])]
    cells = {(r["park_id"], r["year"], r["pillar"], r["component"]): r for _, r in cards.iterrows()}
    order = list(PILLARS)
    sections = []
    for year in years:
        of_year = cards[cards["year"] == year]
        components = (
            of_year.drop_duplicates(["pillar", "component"])
            .assign(
                _p=lambda f: [order.index(p) if p in order else 99 for p in f["pillar"]],
                _c=lambda f: [2 if c == "overall" else 0 if c == "pillar" else 1 for c in f["component"]],
            )
            .sort_values(["_p", "_c"], kind="stable")
        )
        rows = []
        for _, component in components.iterrows():
            pillar, name = component["pillar"], component["component"]
            if name == "overall":
                label = "<strong>Overall score</strong>"
            elif name == "pillar":
                label = f"<strong>{esc(PILLARS.get(pillar, pillar))}</strong>"
            else:
                label = link(
                    f"../methodology/#indicator-{name.replace('_', '-').replace('.', '-')}",
                    component["label"],
                )
            row = [label]
            for park_id in park_ids:
                card = cells.get((park_id, year, pillar, name))
                row.append(_comparison_cell(card, name))
            rows.append(row)
        headers = ["Indicator"] + [names.get(p, p) for p in park_ids]
        sections.append(
            f'<h2 id="year-{esc(year)}">{esc(year)}</h2>\n\n'
            + table_html(headers, rows, [False] + [True] * len(park_ids))
        )
    chooser = " · ".join(f'<a href="#year-{esc(y)}">{esc(y)}</a>' for y in years)
    body = f"""
# Compare parks

Every park side by side on each scorecard indicator: the value, and in brackets its score out of 100.
Choose the year: {chooser}. A year not yet complete is shown but not scored; a withheld value protects
facilities that publish only into park totals.

{chr(10).join(s + chr(10) for s in sections)}
"""
    ctx.write("compare/index.md", "Compare parks", body, wide=True)


def _comparison_cell(card: pd.Series | None, component: str) -> str:
    if card is None:
        return '<span class="instep-na">n/a</span>'
    key = _card_key(card)
    withheld = str(card.get("na_reason") or "").startswith("withheld")
    parts = []
    if component not in ("pillar", "overall"):
        if str(card["value"]).strip():
            unit = words.unit_words(card.get("unit", ""), component)
            parts.append(traced_number("scorecards", key, "value", card["value"], unit))
        else:
            parts.append(
                '<span class="instep-withheld">withheld</span>'
                if withheld
                else '<span class="instep-na">n/a</span>'
            )
    if card.get("status") == NOT_SCORED_YET:
        parts.append(f'<span class="instep-na">({NOT_SCORED_YET})</span>')
    elif str(card["score"]).strip():
        score = traced_number("scorecards", key, "score", card["score"], SCORE_UNIT, 1)
        parts.append(f"({score})" if component not in ("pillar", "overall") else score)
    elif component in ("pillar", "overall"):
        parts.append(
            '<span class="instep-withheld">withheld</span>'
            if withheld
            else '<span class="instep-na">n/a</span>'
        )
    return " ".join(parts)


def write_place_pages(ctx: SiteContext) -> None:
    home(ctx)
    parks_index(ctx)
    comparison_page(ctx)
    for _, park in ctx.parks.iterrows():
        park_page(ctx, park)
    park_names = dict(zip(ctx.parks["park_id"], ctx.parks["name"], strict=True))
    facilities_index(ctx, park_names)
    for _, facility in ctx.facilities.iterrows():
        facility_page(ctx, facility, park_names)
