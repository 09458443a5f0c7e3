"""The transparency site built from the run's demo release, checked as files: every page labelled and
linked, numbers equal to the release, chart bundles complete, a strict CSP, the search index small.

The demo release and site are built once for the test run (tests/shared_demo.py); the same site in a
browser is tested in test_site_browser.py.
"""

from __future__ import annotations

import copy
import json
import math
import re
import shutil
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

import pandas as pd
import pytest

from instep.serve import serving
from instep.settings import REPO_ROOT
from instep.site.build import chart_cache_dir, docs_dir, generate_pages
from instep.site.chartcache import ChartRenderer, render_svg_png, stable_clip_ids, static_spec
from instep.site.markup import format_number
from instep.site.release import load_releases
from tests.shared_demo import VERSION, BuiltSite

if TYPE_CHECKING:
    from playwright.sync_api import Page

ARTIFACTS = REPO_ROOT / "test-artifacts"
SITE_ROOT = "http://site.invalid/"


def save_screenshot(page: Page, name: str, width: int) -> None:
    """A picture of the whole of a Playwright `page` in test-artifacts/, for a person to look at: JPEG,
    which Chromium encodes in about a third of a full-page PNG's time."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"site-{name}-{width}.jpg"
    page.screenshot(path=str(path), type="jpeg", quality=80, full_page=True)


@pytest.fixture
def built(demo_site: BuiltSite) -> BuiltSite:
    """The run's demo site (shared, read only)."""
    return demo_site


class PageParser(HTMLParser):
    """Links, ids, scripts and traced numbers of one built page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self.ids: set[str] = set()
        self.scripts: list[dict[str, str]] = []
        self.handlers: list[str] = []
        self.styles: list[str] = []
        self.meta_csp: list[str] = []
        self.values: list[tuple[dict[str, str], str]] = []
        self._value: dict[str, str] | None = None
        self._text: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and "name" in a:
            self.ids.add(a["name"])
        for name in ("href", "src", "data-spec"):
            if name in a and not (tag == "link" and a.get("rel") in ("canonical", "sitemap")):
                self.links.append((tag, a[name]))
        if tag == "script":
            self.scripts.append(a)
        self.handlers += [k for k in a if k.startswith("on")]
        if "style" in a:
            self.styles.append(f"{tag} {a['style']}")
        if tag == "meta" and a.get("http-equiv", "").lower() == "content-security-policy":
            self.meta_csp.append(a.get("content", ""))
        if "data-raw" in a:
            self._value, self._text = a, []

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._value is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self._value is not None:
            self.values.append((self._value, "".join(self._text)))
            self._value = None


def parse(path: Path) -> PageParser:
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def url_of(site: Path, page: Path) -> str:
    relative = page.relative_to(site).as_posix()
    return SITE_ROOT + (relative[: -len("index.html")] if relative.endswith("index.html") else relative)


def target_file(site: Path, url: str) -> Path:
    path = unquote(urlsplit(url).path)[1:]
    target = site / path
    return target / "index.html" if path == "" or path.endswith("/") else target


# ---------------------------------------------------------------------------------------------------------
# The built files


def test_every_page_is_labelled_synthetic_and_names_its_release(built: BuiltSite):
    pages = html_pages(built.path)
    assert len(pages) > 20
    for page in pages:
        if page.name == "404.html":
            continue
        text = page.read_text(encoding="utf-8")
        assert "Synthetic demonstration data." in text, page
        assert f"Built from release <strong>{VERSION}</strong>" in text, page


def test_stable_urls_for_parks_facilities_and_releases(built: BuiltSite):
    release = built.release_dir
    parks = pd.read_csv(release / "data" / "parks.csv", dtype=str)
    facilities = pd.read_csv(release / "data" / "facilities.csv", dtype=str)
    for park_id in parks["park_id"]:
        assert (built.path / "parks" / park_id / "index.html").is_file()
    for facility_id in facilities["facility_id"]:
        assert (built.path / "facilities" / facility_id / "index.html").is_file()
    index = json.loads((release.parent / "releases.json").read_text(encoding="utf-8"))
    for entry in index["releases"]:
        assert (built.path / "releases" / entry["version"] / "index.html").is_file()
        for name in ("datapackage.json", "SHA256SUMS", "CITATION.cff"):
            assert (built.path / "downloads" / entry["version"] / name).is_file()
    assert (built.path / "sitemap.xml").is_file()
    assert "/parks/" in (built.path / "sitemap.xml").read_text(encoding="utf-8")


def test_no_inline_scripts_or_handlers_and_a_strict_csp_on_every_page(built: BuiltSite):
    for page in html_pages(built.path):
        parsed = parse(page)
        assert parsed.meta_csp, page
        assert "'unsafe-inline'" not in parsed.meta_csp[0] and "'unsafe-eval'" not in parsed.meta_csp[0]
        for script in parsed.scripts:
            assert script.get("src") or script.get("type") in ("application/json", "application/ld+json"), (
                page,
                script,
            )
        assert not parsed.handlers, (page, parsed.handlers)
        assert not parsed.styles, (page, parsed.styles[:3])


def test_internal_links_resolve_and_nothing_is_loaded_from_elsewhere(built: BuiltSite):
    site = built.path
    ids: dict[Path, set[str]] = {}
    broken = []
    for page in html_pages(site):
        parsed = parse(page)
        ids[page] = parsed.ids
        base = url_of(site, page)
        for tag, link in parsed.links:
            if link.startswith(("mailto:", "data:")):
                continue
            absolute = urljoin(base, link)
            if not absolute.startswith(SITE_ROOT):
                # Links to other sites are allowed to be followed by a reader, never loaded by the page.
                assert tag == "a", (page, tag, link)
                continue
            url, fragment = urldefrag(absolute)
            target = target_file(site, url)
            if not target.is_file():
                broken.append((page.relative_to(site).as_posix(), link))
                continue
            if fragment and target.suffix == ".html":
                known = ids.get(target) or parse(target).ids
                ids[target] = known
                if fragment not in known:
                    broken.append((page.relative_to(site).as_posix(), link))
    assert not broken, broken[:20]


def test_every_number_on_a_park_page_equals_the_release_csv(built: BuiltSite):
    tables: dict[str, pd.DataFrame] = {}
    checked = 0
    parks = pd.read_csv(built.release_dir / "data" / "parks.csv", dtype=str)
    for park_id in parks["park_id"]:
        parsed = parse(built.path / "parks" / park_id / "index.html")
        assert parsed.values, park_id
        for attrs, shown in parsed.values:
            name = attrs["data-table"]
            if name not in tables:
                tables[name] = pd.read_csv(
                    built.release_dir / "data" / f"{name}.csv", dtype=str, keep_default_na=False
                )
            table = tables[name]
            key = json.loads(attrs["data-key"])
            match = table
            for column, value in key.items():
                match = match[match[column] == value]
            assert len(match) == 1, (name, key)
            cell = match.iloc[0][attrs["data-field"]]
            assert math.isclose(float(cell), float(attrs["data-raw"]), rel_tol=0, abs_tol=0), (key, cell)
            # The figure shown is the cell, rounded for reading, with its unit.
            assert shown.split("\u00a0")[0].split("\u202f")[0].replace(",", "") != ""
            number = float(shown.split("\u00a0")[0].split("\u202f")[0].replace(",", ""))
            assert math.isclose(number, float(cell), rel_tol=0.001, abs_tol=0.051), (key, shown, cell)
            assert "\u00a0" in shown or "\u202f" in shown, f"no unit on {shown!r}"
            checked += 1
    assert checked > 50


def test_scorecards_show_every_indicator_with_floor_target_and_reasons(built: BuiltSite):
    cards = pd.read_csv(built.release_dir / "data" / "scorecards.csv", dtype=str, keep_default_na=False)
    latest = str(max(cards["year"].astype(int)))
    for park_id, rows in cards[cards["year"] == latest].groupby("park_id"):
        text = (built.path / "parks" / park_id / "index.html").read_text(encoding="utf-8")
        assert f"Scorecard {latest}" in text
        for _, row in rows.iterrows():
            if row["component"] in ("pillar", "overall"):
                continue
            assert f"#indicator-{row['component'].replace('_', '-').replace('.', '-')}" in text
            if row["status"] == "n/a":
                assert row["na_reason"] and row["na_reason"] in text.replace("&#x27;", "'")


def test_chart_bundles_are_complete(built: BuiltSite):
    figures = 0
    for page in html_pages(built.path):
        text = page.read_text(encoding="utf-8")
        if 'class="instep-chart"' not in text:
            continue
        parsed = parse(page)
        links = {link for _tag, link in parsed.links}
        specs = [link for link in links if link.endswith(".vl.json")]
        for spec in specs:
            stem = page.parent / spec[: -len(".vl.json")]
            for suffix in (".svg", ".csv", ".vl.json", ".zip"):
                assert Path(str(stem) + suffix).is_file(), (page, spec, suffix)
            # A PNG is offered on park and overview charts, not on the one chart of each facility page.
            png_link = spec[: -len(".vl.json")] + ".png"
            facility_page = page.relative_to(built.path).parts[0] == "facilities"
            assert (png_link in links) is not facility_page, (page, spec)
            assert Path(str(stem) + ".png").is_file() is not facility_page, (page, spec)
            assert Path(str(stem) + ".svg").read_text(encoding="utf-8").lstrip().startswith("<svg")
            assert json.loads(Path(str(stem) + ".vl.json").read_text(encoding="utf-8"))["description"]
            figures += 1
        assert "Data table:" in text and "Source: " in text
    assert figures >= 10


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_a_second_build_of_the_same_release_renders_no_chart_and_writes_the_same_files(
    built: BuiltSite, tmp_path: Path
):
    again = built.settings.with_(workspace=tmp_path / "workspace")
    shutil.copytree(chart_cache_dir(built.settings), chart_cache_dir(again))
    renderer = ChartRenderer(chart_cache_dir(again))
    generate_pages(again, renderer=renderer)
    assert renderer.rendered == 0
    assert _tree(docs_dir(again)) == _tree(docs_dir(built.settings))
    # A chart missing from the cache (or changed) is rendered again, and only that one.
    entry = next(chart_cache_dir(again).rglob("*.svg"))
    entry.unlink()
    renderer = ChartRenderer(chart_cache_dir(again))
    generate_pages(again, renderer=renderer)
    assert renderer.rendered == 1
    assert entry.is_file()
    assert _tree(docs_dir(again)) == _tree(docs_dir(built.settings))


def test_chart_svgs_do_not_depend_on_what_was_rendered_before():
    svg = (
        '<clipPath id="clip7"/><g clip-path="url(#clip7)"/><clipPath id="clip9"/><g clip-path="url(#clip9)"/>'
    )
    renumbered = (
        '<clipPath id="clip1"/><g clip-path="url(#clip1)"/><clipPath id="clip2"/><g clip-path="url(#clip2)"/>'
    )
    assert stable_clip_ids(svg) == renumbered


def test_static_pictures_are_drawn_without_tooltips_and_look_the_same():
    import vl_convert as vlc

    from instep.site.chartcache import VEGA_LITE_VERSION

    tooltip = [{"field": "value", "type": "quantitative", "format": ",.1f", "title": "Shown value"}]
    panel = {
        "data": {"values": [{"month": "2024-01-01", "value": 3.25, "tooltip": "kept: data"}]},
        "mark": {"type": "line", "point": True, "tooltip": True},
        "encoding": {
            "x": {"field": "month", "type": "temporal"},
            "y": {"field": "value", "type": "quantitative"},
            "tooltip": tooltip,
        },
    }
    spec = {"vconcat": [panel, copy.deepcopy(panel)], "config": {"font": "DejaVu Sans"}}
    before = copy.deepcopy(spec)
    drawn = static_spec(spec)
    assert spec == before  # the interactive view keeps its tooltips
    for part in drawn["vconcat"]:
        assert "tooltip" not in part["encoding"] and "tooltip" not in part["mark"]
        assert part["data"] == panel["data"] and part["mark"]["point"] is True
    # The same picture: only the marks' accessible descriptions (read from the tooltips) differ.
    full = vlc.vegalite_to_svg(spec, vl_version=VEGA_LITE_VERSION, allowed_base_urls=[])
    static, png = render_svg_png(spec, png=False)
    assert png is None
    without_labels = re.compile(r' aria-label="[^"]*"')
    assert without_labels.sub("", stable_clip_ids(full)) == without_labels.sub("", static)
    assert "Shown value: 3.3" in full and "Shown value" not in static


def test_downloads_and_release_pages_describe_the_dataset(built: BuiltSite):
    for page in (built.path / "downloads" / "index.html", built.path / "releases" / VERSION / "index.html"):
        text = page.read_text(encoding="utf-8")
        start = text.index('<script type="application/ld+json">') + len('<script type="application/ld+json">')
        data = json.loads(text[start : text.index("</script>", start)])
        assert data["@type"] == "Dataset" and data["version"] == VERSION
        assert any(d["name"] == "datapackage.json" for d in data["distribution"])
        assert "@misc" in text and "cff-version" in text
        sums = (built.release_dir / "SHA256SUMS").read_text(encoding="utf-8").split()[0]
        assert sums in text


def test_methodology_and_dictionary_come_from_the_code_and_schema(built: BuiltSite):
    descriptor = json.loads((built.release_dir / "datapackage.json").read_text(encoding="utf-8"))
    index = (built.path / "data-dictionary" / "index.html").read_text(encoding="utf-8")
    names = [resource["name"] for resource in descriptor["resources"]]
    # The index links every table's page, in the package's order.
    linked = re.findall(r'<td data-label="Table"><a href="([a-z_]+)/">', index)
    assert linked == names
    for resource in descriptor["resources"]:
        page = (built.path / "data-dictionary" / resource["name"] / "index.html").read_text(encoding="utf-8")
        # Column names may break after an underscore, never inside a word.
        columns = re.findall(r'<code class="instep-column">(.*?)</code>', page.replace("<wbr>", ""))
        assert columns == [field["name"] for field in resource["schema"]["fields"]], resource["name"]
        for foreign in resource["schema"].get("foreignKeys", []):
            target = foreign["reference"]["resource"]
            assert f'<a href="../{target}/">{target}</a>' in page
    from instep.methodology import rubric_markdown

    methodology = (built.path / "methodology" / "index.html").read_text(encoding="utf-8")
    first_row = [line for line in rubric_markdown(1).splitlines() if line.startswith("| ")][1]
    assert escape(first_row.split("|")[1].strip().strip("`"), quote=False) in methodology


def test_release_reader_lists_all_versions(built: BuiltSite):
    current, releases = load_releases(built.release_dir.parent)
    assert current.version == VERSION and [r.version for r in releases] == [VERSION]
    assert current.synthetic
    assert (docs_dir(built.settings) / "parks" / "index.md").is_file()


def test_format_number_puts_units_on_numbers():
    assert format_number(1234.4, "t CO2e") == "1,234\u00a0t CO₂e"
    assert format_number(7.25, "%") == "7.25\u202f%"
    assert format_number(None, "%") == "n/a"


def test_all_releases_are_listed_in_index_order_with_latest_from_the_pointer(tmp_path: Path):
    package = tmp_path / "instep-open-data"
    for version, created in (("1.0.0", "2026-01-10T00:00:00Z"), ("1.1.0", "2026-03-02T00:00:00Z")):
        (package / version).mkdir(parents=True)
        descriptor = {"name": "instep-open-data", "version": version, "created": created, "resources": []}
        (package / version / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    index = {"package": "instep-open-data", "releases": [{"version": "1.0.0"}, {"version": "1.1.0"}]}
    (package / "releases.json").write_text(json.dumps(index), encoding="utf-8")
    (package / "LATEST").write_text("1.1.0\n", encoding="utf-8")
    current, releases = load_releases(package)
    assert current.version == "1.1.0" and current.date == "2026-03-02"
    assert [r.version for r in releases] == ["1.0.0", "1.1.0"]
    (package / "releases.json").unlink()  # without the index: every folder with a descriptor, by date
    assert [r.version for r in load_releases(package)[1]] == ["1.0.0", "1.1.0"]


def test_every_public_facility_has_one_short_search_entry_and_no_page_entries(built: BuiltSite):
    index = json.loads((built.path / "search" / "search_index.json").read_text(encoding="utf-8"))
    facilities = pd.read_csv(built.release_dir / "data" / "facilities.csv", dtype=str, keep_default_na=False)
    assert len(facilities) > 3
    by_location: dict[str, list[dict]] = {}
    for doc in index["docs"]:
        by_location.setdefault(doc["location"], []).append(doc)
    for facility in facilities.itertuples():
        entries = by_location.get(f"facilities/{facility.facility_id}/", [])
        # One entry, not the page's sections: the index stays small at national scale.
        assert len(entries) == 1, facility.facility_id
        entry = entries[0]
        assert entry["title"] == escape(facility.name, quote=False)
        assert facility.facility_id in entry["tags"] and facility.facility_id in entry["text"]
        if facility.os_id:
            assert facility.os_id in entry["tags"]
        assert len(json.dumps(entry, ensure_ascii=False)) < 400
    assert not [loc for loc in by_location if loc.startswith("facilities/") and "#" in loc]
    # Parks, indicators and glossary terms are found through their pages.
    titles = " ".join(doc["title"] for doc in index["docs"])
    parks = pd.read_csv(built.release_dir / "data" / "parks.csv", dtype=str)
    for name in parks["name"]:
        assert escape(name, quote=False) in titles
    assert any(doc["location"].startswith("glossary/") and "MRSL" in doc["text"] for doc in index["docs"])
    assert any(doc["location"].startswith("methodology/#indicator-ltifr") for doc in index["docs"])
    # The pages themselves are built and linked from the index.
    for facility_id in facilities["facility_id"]:
        assert (built.path / "facilities" / facility_id / "index.html").is_file()


# ---------------------------------------------------------------------------------------------------------
# For factories: the templates to download, the rules in words and the checker


def test_factories_pages_offer_the_templates_and_every_rule(built: BuiltSite):
    from expectations import rules
    from instep.demo.templates import CSV_TEMPLATE, EXAMPLE, TEMPLATES_DIR, XLSX_TEMPLATE

    page = built.path / "factories" / "index.html"
    links = {href for tag, href in parse(page).links if tag == "a"}
    for name in (XLSX_TEMPLATE, CSV_TEMPLATE, EXAMPLE):
        assert f"templates/{name}" in links, name
        download = target_file(built.path, urljoin(url_of(built.path, page), f"templates/{name}"))
        assert download.read_bytes() == (TEMPLATES_DIR / name).read_bytes(), name
    assert "instep check" in page.read_text(encoding="utf-8")
    rules_text = "".join(parse(built.path / "factories" / "rules" / "index.html").text)
    for rule in rules().values():
        assert f"rule {rule.rule})" in rules_text, rule.rule
    config = (built.settings.site_build_dir / "mkdocs.yml").read_text(encoding="utf-8")
    assert "For factories:" in config


def test_a_downloaded_chart_names_its_source_release_licence_and_synthetic_label(built: BuiltSite):
    import zipfile
    from urllib.request import urlopen

    charted: dict[str, list[str]] = {}
    for park_id in sorted(pd.read_csv(built.release_dir / "data" / "parks.csv", dtype=str)["park_id"]):
        parsed = parse(built.path / "parks" / park_id / "index.html")
        links = [link for tag, link in parsed.links if tag == "a" and "/charts/" in f"/{link}"]
        if links:  # a park whose every figure is withheld has no chart to download
            charted[park_id] = links
    parks = list(charted)
    assert len(parks) >= 2, charted
    names: dict[str, set[str]] = {}
    with serving(built.path) as base:
        for park_id in parks[:2]:
            downloads = charted[park_id]
            names[park_id] = {link.rsplit("/", 1)[-1] for link in downloads}
            svg = next(link for link in downloads if link.endswith(".svg"))
            csv_link = next(link for link in downloads if link.endswith(".csv"))
            assert svg.rsplit("/", 1)[-1].startswith(f"{park_id}-")
            for link in (svg, csv_link):
                text = urlopen(base + f"parks/{park_id}/" + link).read().decode("utf-8")
                assert "CC-BY-4.0" in text, link
                assert f"release {VERSION}" in text, link
                assert "Synthetic demonstration data" in text, link
            frame = pd.read_csv(urlopen(base + f"parks/{park_id}/" + csv_link), comment="#")
            assert {"month", "series", "value"} <= set(frame.columns)
            bundle = next(link for link in downloads if link.endswith(".zip"))
            stem = bundle.rsplit("/", 1)[-1][: -len(".zip")]
            with zipfile.ZipFile(built.path / "parks" / park_id / bundle) as archive:
                assert sorted(archive.namelist()) == sorted(f"{stem}.{s}" for s in ("csv", "png", "svg"))
    # Two parks' charts never share a file name.
    assert not names[parks[0]] & names[parks[1]]


def test_the_chart_fonts_draw_a_chart_as_the_system_dejavu_sans_does(tmp_path: Path):
    from instep.site.chartcache import WorkerPool, chart_fonts_cover, chart_key, spec_text

    rows = [
        {"month": f"2024-{m:02d}-01", "value": m * 1.5, "series": "Scope 2 (tCO₂e)"} for m in range(1, 13)
    ]
    spec = {
        "data": {"values": rows},
        "mark": "line",
        "title": {"text": "Emissions of Nam Định's park", "fontWeight": "bold"},
        "encoding": {
            "x": {"field": "month", "type": "temporal"},
            "y": {"field": "value", "type": "quantitative", "title": "tonnes CO₂e"},
            "color": {"field": "series", "type": "nominal"},
        },
        "config": {"font": "DejaVu Sans, Helvetica, Arial, sans-serif"},
    }
    assert chart_fonts_cover(spec_text(spec))
    assert not chart_fonts_cover(spec_text({**spec, "description": "東"}))
    key = chart_key(spec)
    drawn = {}
    for chart_fonts in (True, False):
        cache = tmp_path / str(chart_fonts)
        pool = WorkerPool(1, cache, chart_fonts)
        try:
            pool.submit(key, spec, None).result()
        finally:
            pool.close()
        drawn[chart_fonts] = (cache / key[:2] / f"{key}.svg").read_text(encoding="utf-8")
    assert "DejaVu Sans" in drawn[True]
    assert drawn[True] == drawn[False]
