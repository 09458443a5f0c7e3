"""The demo site in a headless Chromium (scripts/install-browser.sh), served on 127.0.0.1 with Playwright:
every kind of page on a phone and a desktop (nothing wider than the screen, charts interactive and
readable, no console error, nothing from another origin, the CSP holds, axe-core finds nothing serious),
the site search, the table explorer, the facilities list and charts without JavaScript. Screenshots of
each page kind at both sizes go to test-artifacts/ (`site-<page>-<width>.jpg`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pandas as pd
import pytest

from instep.serve import serving
from instep.site.build import SITE_SOURCES
from tests.shared_demo import VERSION, BuiltSite
from tests.test_site import SITE_ROOT, save_screenshot, target_file

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


@pytest.fixture
def built(demo_site: BuiltSite) -> BuiltSite:
    """The run's demo site (shared, read only)."""
    return demo_site


@pytest.fixture(scope="module")
def base(demo_site: BuiltSite) -> Iterator[str]:
    """The demo site served on 127.0.0.1 for the module's tests (the server only reads the files)."""
    with serving(demo_site.path) as url:
        yield url


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One headless Chromium for the module's tests (started once: each test opens its own contexts)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def browser(chromium: Browser) -> Iterator[Browser]:
    """The module's Chromium; the browser contexts a test opens (each its own cookies, storage, viewport
    and scripts, as a new reader's) are closed when it ends."""
    yield chromium
    for context in chromium.contexts:
        context.close()


# Every kind of page: (name, path); {park}, {facility} and {table} (the one of most columns) are filled
# in from the release.
PAGE_KINDS = (
    ("home", ""),
    ("parks", "parks/"),
    ("park", "{park}"),
    ("compare", "compare/"),
    ("facilities", "facilities/"),
    ("facility", "{facility}"),
    ("methodology", "methodology/"),
    ("glossary", "glossary/"),
    ("dictionary", "data-dictionary/"),
    ("dictionary-table", "data-dictionary/{table}/"),
    ("quality", "data-quality/"),
    ("downloads", "downloads/"),
    ("releases", "releases/"),
    ("release", f"releases/{VERSION}/"),
    ("explorer", "explorer/"),
    ("about", "about/"),
    ("steward", "steward/"),
    ("factories", "factories/"),
    ("factory-rules", "factories/rules/"),
)
VIEWPORTS = ((390, 844), (1280, 900))
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""
# Elements of the content that reach past the right edge of the screen, outside a scroll wrapper.
OVERFLOWING = """() => [...document.querySelectorAll('.md-content *')].filter(e => {
  const r = e.getBoundingClientRect();
  const scrolls = e.closest('.md-typeset__scrollwrap, .instep-explorer__rows');
  return r.width > 0 && r.right > innerWidth + 1 && !scrolls;
}).slice(0, 5).map(e => e.tagName + '.' + e.className)"""
# Table cells of the park scorecards that a phone would have to scroll sideways to see.
CELLS_OFF_SCREEN = """() => [...document.querySelectorAll('.md-content table[data-cards] td')].filter(td => {
  const r = td.getBoundingClientRect();
  return r.width > 0 && (r.right > innerWidth + 1 || r.left < -1);
}).length"""
# Generated tables wider than the space they are shown in (on a desktop they must fit, not scroll).
TABLES_CUT_OFF = """() => [...document.querySelectorAll('.md-content table[data-cards]')].filter(table => {
  const wrap = table.closest('.md-typeset__scrollwrap') || table.parentElement;
  return table.getBoundingClientRect().right > wrap.getBoundingClientRect().right + 1
    || table.scrollWidth > table.clientWidth + 1;
}).length"""
# Chart text smaller than 11 px as displayed: the interactive SVG's text scaled by its displayed width,
# and the static picture's text by the displayed width of its image.
SMALL_CHART_TEXT = """async () => {
  const small = [];
  for (const figure of document.querySelectorAll('figure.instep-chart')) {
    const svg = figure.querySelector('.instep-chart__interactive svg');
    if (svg && svg.getBoundingClientRect().width) {
      const scale = svg.getBoundingClientRect().width / svg.width.baseVal.value;
      svg.querySelectorAll('text').forEach(t => {
        const size = parseFloat(getComputedStyle(t).fontSize) * scale;
        if (t.textContent.trim() && size < 10.99) small.push(figure.id + ' ' + size.toFixed(1));
      });
    }
    const img = figure.querySelector('.instep-chart__static img');
    if (img && img.getBoundingClientRect().width) {
      const source = await (await fetch(img.currentSrc)).text();
      const scale = img.getBoundingClientRect().width / img.naturalWidth;
      for (const m of source.matchAll(/font-size="([0-9.]+)px"/g)) {
        if (parseFloat(m[1]) * scale < 10.99) small.push(figure.id + ' static ' + (m[1] * scale).toFixed(1));
      }
    }
  }
  return small.slice(0, 5);
}"""


def _media_blocks(css: str) -> list[str]:
    """The bodies of the stylesheet's @media rules (braces counted, so nested rules stay inside)."""
    blocks = []
    for start in (m.end() for m in re.finditer(r"@media[^{]*\{", css)):
        depth, end = 1, start
        while depth:
            depth += {"{": 1, "}": -1}.get(css[end], 0)
            end += 1
        blocks.append(css[start : end - 1])
    return blocks


def test_no_media_query_changes_a_colour():
    """What lets the walk judge colour contrast at one width only: no text or background colour
    depends on the screen's width."""
    css = (SITE_SOURCES / "assets" / "stylesheets" / "site.css").read_text(encoding="utf-8")
    blocks = _media_blocks(css)
    assert blocks and all("{" in block for block in blocks)
    colours = re.compile(r"(?:^|[;{\s])(?:color|background(?:-color)?|opacity|filter)\s*:")
    assert [block for block in blocks if colours.search(block)] == []


def chromium_path() -> str:
    path = os.environ.get("INSTEP_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "Chromium is missing: run scripts/install-browser.sh"
    return path


def _page_paths(built: BuiltSite) -> list[tuple[str, str]]:
    parks = pd.read_csv(built.release_dir / "data" / "parks.csv", dtype=str)
    facilities = pd.read_csv(built.release_dir / "data" / "facilities.csv", dtype=str)
    factory = facilities[facilities["type"] == "factory"].iloc[0]["facility_id"]
    park = f"parks/{parks.iloc[0]['park_id']}/"
    resources = json.loads((built.release_dir / "datapackage.json").read_text(encoding="utf-8"))["resources"]
    table = max(resources, key=lambda resource: len(resource["schema"]["fields"]))["name"]
    return [
        (name, p.format(park=park, facility=f"facilities/{factory}/", table=table)) for name, p in PAGE_KINDS
    ]


@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=("phone", "desktop"))
def test_pages_in_a_browser(built: BuiltSite, base: str, browser: Browser, width: int, height: int):
    """Every kind of page on a 390 px phone and a 1280 px desktop: nothing wider than the screen, no
    table cell off to the side on a phone, chart text at least 11 px, charts interactive, no console
    error, nothing from another origin, the CSP holds, and axe-core finds nothing serious."""
    from axe_playwright_python.sync_playwright import Axe

    paths = _page_paths(built)
    for _, path in paths:
        assert target_file(built.path, SITE_ROOT + path).is_file(), path
    # Colour contrast is judged at desktop width only: the site's colours do not change with the width
    # (its media queries change layout, never a text colour), and the rule is most of axe's time.
    axe_options: dict = {"resultTypes": ["violations"]}
    if width < 600:
        axe_options["rules"] = {"color-contrast": {"enabled": False}}
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        context.add_init_script(CSP_LISTENER)
        # axe-core is given to the context once, and starts with every page, instead of being sent into
        # each page after it has loaded (half a megabyte of script each time).
        context.add_init_script(Axe().axe_script)
        foreign: list[str] = []
        context.on(
            "request",
            lambda request: None if request.url.startswith(base) else foreign.append(request.url),
        )
        # One tab visits every page, as a reader would: each visit starts a new document (its scripts,
        # the CSP listener and the charts run again); the errors are counted per page.
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        for name, path in paths:
            where = f"{path or 'home'} at {width} px"
            errors.clear()
            response = page.goto(base + path)  # returns once the page and its images have loaded
            assert response is not None and response.ok, where
            figures = page.locator("figure.instep-chart").count()
            if name in ("home", "parks", "park", "facility", "quality"):
                assert figures > 0, where
            if figures:
                mounted = "document.querySelectorAll('figure.instep-chart.is-interactive').length"
                # a function, not an expression: Playwright evaluates an expression with eval() in the
                # page on every poll, which the site's CSP (no 'unsafe-eval') refuses
                page.wait_for_function(f"() => {mounted} === {figures}")
                assert page.locator(".instep-chart__interactive svg").count() >= figures
            assert page.locator(".instep-synthetic").count() == 1
            save_screenshot(page, name, width)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, where
            assert page.evaluate(OVERFLOWING) == [], where
            if width < 600:
                assert page.evaluate(CELLS_OFF_SCREEN) == 0, where
            else:
                assert page.evaluate(TABLES_CUT_OFF) == 0, where
            assert page.evaluate(SMALL_CHART_TEXT) == [], where
            violations = page.evaluate("window.__cspViolations")
            assert not violations, (where, violations)
            results = page.evaluate("options => axe.run(document, options)", axe_options)
            serious = [
                (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                for v in results["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            assert not serious, (where, serious)
            assert not errors, (where, errors)
        assert not foreign, foreign
    finally:
        context.close()


def test_the_search_finds_a_public_facility_by_name_and_puts_its_page_first(
    built: BuiltSite, base: str, browser: Browser
):
    facilities = pd.read_csv(built.release_dir / "data" / "facilities.csv", dtype=str, keep_default_na=False)
    factory = facilities[facilities["type"] == "factory"].iloc[-1]
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    page.goto(base)
    page.wait_for_load_state("networkidle")
    page.locator("label.md-header__button[for='__search']").click()
    search = page.locator("input.md-search__input")
    # Typed as a reader types (the search reacts to key strokes), by name, then by id.
    for query in (factory["name"].replace(" (synthetic)", ""), factory["facility_id"]):
        search.fill("")
        search.press_sequentially(query, delay=20)
        first = page.locator(".md-search-result__item a").first
        first.wait_for()
        page.wait_for_timeout(500)  # the results of the last key stroke
        href = urlsplit(first.get_attribute("href")).path
        assert href.rstrip("/").endswith(f"facilities/{factory['facility_id']}"), (query, href)
    first.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == factory["name"]


def test_the_explorer_filters_a_table_and_downloads_the_rows_of_the_release_file(
    built: BuiltSite, base: str, browser: Browser
):
    release = pd.read_csv(built.release_dir / "data" / "park_monthly.csv", dtype=str, keep_default_na=False)
    park = sorted(set(release["park_id"]))[-1]
    periods = sorted(set(release.loc[release["park_id"] == park, "period"]))
    start, end = periods[2], periods[5]
    expected = release[
        (release["park_id"] == park) & (release["period"] >= start) & (release["period"] <= end)
    ]
    assert 0 < len(expected) < len(release)
    page = browser.new_context(accept_downloads=True).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base + "explorer/")
    page.wait_for_load_state("networkidle")
    page.select_option("#explorer-table", "park_monthly")
    page.wait_for_selector(
        "[data-explorer-filter='park_id']:not([hidden]) option[value='" + park + "']",
        state="attached",
    )
    page.select_option("[data-explorer-filter='park_id'] select", park)
    page.fill("#explorer-from", start)
    page.fill("#explorer-to", end)
    page.locator("#explorer-to").dispatch_event("change")
    page.wait_for_function(
        f"() => document.getElementById('explorer-status').textContent.startsWith('{len(expected)} of')"
    )
    assert page.locator("#explorer-rows tbody tr").count() == len(expected)
    with page.expect_download() as download:
        page.click("#explorer-download")
    path = download.value.path()
    got = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(got.columns) == list(release.columns)
    assert got.to_dict("records") == expected.to_dict("records")
    assert not errors


def test_the_facilities_list_filters_by_park_with_javascript_and_lists_all_without(
    built: BuiltSite, base: str, browser: Browser
):
    facilities = pd.read_csv(built.release_dir / "data" / "facilities.csv", dtype=str, keep_default_na=False)
    park = facilities["park_id"].iloc[0]
    plain = browser.new_context(java_script_enabled=False).new_page()
    plain.goto(base + "facilities/")
    assert plain.locator("table[data-filterable] tbody tr").count() == len(facilities)
    assert not plain.locator("#facility-filters").is_visible()
    page = browser.new_context().new_page()
    page.goto(base + "facilities/")
    page.wait_for_load_state("networkidle")
    page.select_option("#facility-filters select[data-filter='park']", park.lower())
    visible = page.locator("table[data-filterable] tbody tr:not([hidden])")
    assert visible.count() == int((facilities["park_id"] == park).sum())
    # Sorting by id, descending: the last id comes first.
    page.locator("th button.instep-sort", has_text="Facility id").click()
    page.locator("th button.instep-sort", has_text="Facility id").click()
    first = page.locator("table[data-filterable] tbody tr:not([hidden]) td").nth(1).inner_text()
    assert first == max(facilities.loc[facilities["park_id"] == park, "facility_id"])


def test_charts_stay_readable_without_javascript(built: BuiltSite, base: str, browser: Browser):
    park = pd.read_csv(built.release_dir / "data" / "parks.csv", dtype=str).iloc[0]["park_id"]
    page = browser.new_context(java_script_enabled=False).new_page()
    page.goto(base + f"parks/{park}/")
    images = page.locator(".instep-chart__static img")
    assert images.count() >= 3
    first = images.first
    first.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=first.element_handle())
    assert first.get_attribute("alt")
    assert page.locator("details.instep-chart__data table").count() == images.count()


def test_the_factories_page_links_the_three_templates_and_each_downloads(
    built: BuiltSite, base: str, browser: Browser
):
    """(The factories pages' fit at both widths, their CSP and their screenshots are the walk's.)"""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    response = page.goto(base + "factories/")
    assert response is not None and response.ok
    links = "article a[href*='templates/']"
    hrefs = page.eval_on_selector_all(links, "links => links.map(a => a.href)")
    assert len(hrefs) == 3, hrefs
    for href in hrefs:
        download = context.request.get(href)
        assert download.ok and download.body(), href
