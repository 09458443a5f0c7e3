"""Words, not codes: abbreviations spelled out on first use, constraints and units in words, the
changelog read back as tables, chart footers and file names."""

from __future__ import annotations

import pandas as pd
import pytest

from instep.release.changelog import CHANGED_ROWS_SECTION
from instep.site import changelog, words
from instep.site.chartcache import add_footer, svg_size
from instep.site.charts import Citation, Figure, csv_with_header, file_stem, mobile_spec
from instep.site.markup import format_number


def test_an_abbreviation_is_spelled_out_on_its_first_use_only_and_never_inside_tags_or_code():
    body = (
        '<p>MRSL conformance <a href="x#MRSL">MRSL link</a></p>\n'
        "<p>Again MRSL and <code>ZDHC</code>, then ZDHC.</p>\n"
        "## LTIFR heading\n"
        "LTIFR in text\n"
        '<script type="application/ld+json">\n{"name": "CETP"}\n</script>'
    )
    marked = words.mark_abbreviations(body)
    assert marked.count("<abbr") == 3
    assert marked.startswith(
        '<p><abbr title="Manufacturing Restricted Substances List">MRSL</abbr> conformance'
    )
    assert '<a href="x#MRSL">MRSL link</a>' in marked  # not inside a link or an attribute
    assert "<code>ZDHC</code>, then <abbr" in marked  # not in code: the next use is marked
    assert (
        "## LTIFR heading" in marked
        and '<abbr title="lost-time injury frequency rate">LTIFR</abbr> in' in marked
    )


def test_every_glossary_term_has_an_expansion_and_a_definition():
    terms = {t.term for t in words.glossary()}
    assert {"MRSL", "ZDHC", "CETP", "LTIFR", "TRIR", "OS ID"} <= terms


def test_constraints_and_units_read_as_words():
    assert words.constraint_words({"required": True, "enum": ["factory", "cetp"]}) == (
        "Required. One of: factory, cetp."
    )
    assert words.constraint_words({"minimum": 0, "maximum": 100}) == "From 0 to 100."
    assert "True" not in words.constraint_words({"required": True, "unique": True})
    assert format_number(2.5, "per 1000000 h") == "2.50\u00a0per million hours worked"
    assert format_number(0, words.unit_words("count", "fatality_free")) == "0\u00a0fatalities"


CHANGELOG = """# Changelog of p 1.1.0

Released 2026-10-21.

Changes since release 1.0.0.

## Schema

No schema changes.

## Rows

| resource | rows | added | removed | changed |
|---|---:|---:|---:|---:|
| facility_monthly | 10 | 2 | 0 | 1 |

## Changed rows and values

3 changes (old -> new; numbers rounded to their column's precision); unrounded in the resource `changes`.

| resource | change | row | column | old | new |
|---|---|---|---|---:|---:|
| facility_monthly | added | facility_id=F-1; period=2024-07 | * | | |
| facility_monthly | added | facility_id=F-1; period=2024-08 | * | | |
| facility_monthly | restated | facility_id=F-1; period=2024-06 | electricity\\|grid | 1 | 2 |
"""


def test_the_changelog_is_read_back_as_sections_and_tables():
    sections = {s.title: s for s in changelog.parse(CHANGELOG)}
    assert sections["Rows"].rows == [["facility_monthly", "10", "2", "0", "1"]]
    assert sections[CHANGED_ROWS_SECTION].rows[2][3] == "electricity|grid"
    assert changelog.summary(CHANGELOG) == {"added": 2, "removed": 0, "changed": 1, "restated": 1}
    html = changelog.changelog_html(CHANGELOG)
    assert "| resource" not in html and '<th scope="col">Old value</th>' in html.replace(
        ' class="instep-num"', ""
    )


CITATION = Citation(
    title="Open data", version="2.0.0", date="2026-12-01", license="CC-BY-4.0", synthetic=True
)


def _figure() -> Figure:
    data = pd.DataFrame({"month": ["2024-01-01", "2025-02-01"], "series": ["a", "a"], "value": [1.0, 2.0]})
    return Figure(slug="emissions", title="Emissions", alt="", chart={}, data=data, table="park_monthly")


def test_a_chart_file_says_whose_what_and_when():
    assert file_stem(_figure(), "ET-HAW") == "ET-HAW-emissions-2024-2025"


def test_the_csv_and_svg_of_a_chart_carry_source_release_licence_and_synthetic_label():
    text = csv_with_header(_figure(), CITATION)
    header = [line for line in text.splitlines() if line.startswith("# ")]
    assert any("release 2.0.0" in line for line in header)
    assert any("CC-BY-4.0" in line for line in header) and any("Synthetic" in line for line in header)
    assert text.splitlines()[len(header)] == "month,series,value"
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="100" viewBox="0 0 300 100"><g/></svg>'
    footed = add_footer(svg, CITATION.footer("park_monthly"))
    width, height = svg_size(footed, (0, 0))
    assert width == 300 and height > 100 and f'viewBox="0 0 300 {height}"' in footed
    assert "release 2.0.0" in footed and "CC-BY-4.0" in footed and "Synthetic demonstration data" in footed
    with pytest.raises(ValueError, match="no width and height"):
        add_footer("<svg><g/></svg>", ["x"])


def test_the_phone_drawing_stacks_side_by_side_views_and_narrows_them():
    spec = {"hconcat": [{"width": 620, "data": {"values": [{"width": 999}]}}], "title": {"text": "A " * 40}}
    phone = mobile_spec(spec)
    assert "hconcat" not in phone and phone["vconcat"][0]["width"] < 300
    assert phone["vconcat"][0]["data"] == {"values": [{"width": 999}]}  # data is never rewritten
    assert isinstance(phone["title"]["text"], list)


def test_a_park_page_says_which_years_use_an_earlier_grid_factor():
    from instep.site.pages import grid_factor_caveat

    rows = pd.DataFrame(
        {
            "year": ["2023", "2024", "2025"],
            "grid_factor_year": ["2023", "2023", "2023"],
            "grid_factor_fallback": ["false", "true", "true"],
        }
    )
    note = grid_factor_caveat(rows, "KE")
    assert "Kenya" in note and "2024 to 2025 use the factor of 2023" in note
    assert grid_factor_caveat(rows.assign(grid_factor_fallback="false"), "KE") == ""
