"""The site after a second release: "What is new" on the home page, a page per release with its changes
and restated values, and "superseded by" on the older one (two releases cut in a test workspace)."""

from __future__ import annotations

import csv
from html.parser import HTMLParser
from pathlib import Path

import pytest

from instep.serve import serving
from instep.site.build import build_site
from tests.shared_demo import BuiltSite, copy_demo
from tests.test_release_pipeline import release
from tests.test_site import save_screenshot
from tests.test_site_browser import OVERFLOWING, TABLES_CUT_OFF, chromium_path

HEADER = "facility_id,period,metric,value,unit,sample_point,sample_date,comment\n"


class Text(HTMLParser):
    """The text and links of a page's main content."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.links: list[str] = []
        self.tables = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")
        if tag == "table":
            self.tables += 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def words(self) -> str:
        """The text with every run of white space as one space."""
        return " ".join("".join(self.text).split())


def _read(path: Path) -> Text:
    parser = Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _section(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


@pytest.fixture(scope="module")
def two_releases(demo_site: BuiltSite, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    # the run's demo release 1.0.0, then a restatement and release 1.1.0 in a copy of it
    settings = copy_demo(demo_site, tmp_path_factory.mktemp("releases"))
    root = settings.workspace
    package = settings.datapackages_dir / settings.package_name
    with (package / "1.0.0" / "data" / "facility_monthly.csv").open(encoding="utf-8", newline="") as f:
        row = next(r for r in csv.DictReader(f) if r["electricity_grid_kwh"])
    (root / "inbox" / "2026-11-30_restatement.csv").write_text(
        HEADER + f"{row['facility_id']},{row['period']},energy.electricity.grid,123456,kWh,,,meter re-read\n",
        encoding="utf-8",
    )
    assert release(settings, "1.1.0", "2026-12-01").success
    site = build_site(settings)
    return {"site": site, "facility": row["facility_id"], "period": row["period"]}


def test_what_is_new_shows_the_latest_changes_as_tables_and_links_to_that_release(two_releases: dict):
    home = _read(two_releases["site"] / "index.html")
    text = home.words
    news = _section(text, "What is new in release 1.1.0", "All changes and earlier releases")
    assert "Changes since release 1.0.0" in news
    assert "|" not in news  # no Markdown table source left on the page
    assert "Changed rows and values" in news and two_releases["facility"] in news
    assert home.tables >= 2
    assert any(link.rstrip("/").endswith("releases/1.1.0") for link in home.links)


def test_what_is_new_counts_only_the_tables_that_changed(two_releases: dict):
    site = two_releases["site"]
    home = (site / "index.html").read_text(encoding="utf-8")
    release_page = (site / "releases" / "1.1.0" / "index.html").read_text(encoding="utf-8")

    def table_cell(name: str) -> str:
        return f'<td data-label="Table">{name}</td>'

    # one grid reading restated: the facility's month changes, the registry tables do not
    assert table_cell("facility_monthly") in home
    assert table_cell("parks") not in home and table_cell("facilities") not in home
    assert "other tables are unchanged" in _read(site / "index.html").words
    # the release page keeps every table
    assert table_cell("parks") in release_page and table_cell("facilities") in release_page


def test_each_release_has_its_page_with_changes_downloads_citation_and_superseded_by(two_releases: dict):
    site = two_releases["site"]
    newer = _read(site / "releases" / "1.1.0" / "index.html")
    text = newer.words
    for heading in ("What changed", "Changed rows and values", "Downloads", "How to cite"):
        assert heading in text, heading
    restated = _section(text, "Changed rows and values", "Downloads")
    assert two_releases["facility"] in restated and two_releases["period"] in restated
    assert "Old value" in restated and "New value" in restated
    assert "Superseded" not in text
    older = _read(site / "releases" / "1.0.0" / "index.html")
    older_text = older.words
    assert "superseded by release 1.1.0" in older_text
    assert any(link.rstrip("/").endswith("1.1.0") for link in older.links)
    listing = _read(site / "releases" / "index.html").words
    assert "superseded by 1.1.0" in listing and "latest" in listing


@pytest.mark.browser
def test_release_pages_fit_a_phone_and_a_desktop(two_releases: dict):
    from playwright.sync_api import sync_playwright

    with serving(two_releases["site"]) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            for width, height in ((390, 844), (1280, 900)):
                page = browser.new_context(viewport={"width": width, "height": height}).new_page()
                for name, path in (("home-second-release", ""), ("release-restated", "releases/1.1.0/")):
                    page.goto(base + path)
                    page.wait_for_load_state("networkidle")
                    save_screenshot(page, name, width)
                    assert page.evaluate("document.documentElement.scrollWidth") <= width, (path, width)
                    assert page.evaluate(OVERFLOWING) == [], (path, width)
                    if width > 600:  # the restated values' last column is in sight
                        assert page.evaluate(TABLES_CUT_OFF) == 0, (path, width)
        finally:
            browser.close()
