"""Building the transparency site from a release directory.

    generate_pages(settings) -> docs folder   # Markdown + chart bundles + theme assets
    build_site(settings)     -> built site    # generate_pages, then `mkdocs build --strict`

Pages are written by this plain script (no MkDocs page-generation plugin), so another static site
generator that reads Markdown and a mkdocs.yml (e.g. Zensical) can take over the build step. The build
folder holds `docs/` (generated Markdown), `mkdocs.yml` (inherits the repository's mkdocs.yml) and
`site/` (the HTML). Release files are copied to `site/downloads/<version>/` after MkDocs ran, because
they are downloads, not pages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from instep.settings import REPO_ROOT, SITE_BUILD_FOLDER, Settings
from instep.site import search
from instep.site.chartcache import ChartRenderer
from instep.site.context import SiteContext
from instep.site.pages import write_place_pages
from instep.site.reference import write_reference_pages
from instep.site.release import Release, load_releases

SITE_SOURCES = REPO_ROOT / "site"
BASE_CONFIG = REPO_ROOT / "mkdocs.yml"


class SiteBuildError(RuntimeError):
    """MkDocs refused the generated pages; the message carries its output."""


def docs_dir(settings: Settings) -> Path:
    return settings.site_build_dir / "docs"


def built_site_dir(settings: Settings) -> Path:
    return settings.site_build_dir / "site"


def config_path(settings: Settings) -> Path:
    return settings.site_build_dir / "mkdocs.yml"


def package_dir(settings: Settings) -> Path:
    return settings.datapackages_dir / settings.package_name


def chart_cache_dir(settings: Settings) -> Path:
    """Rendered charts kept between builds (see instep.site.chartcache), one cache for every build of
    the workspace: the nightly preview draws mostly the charts of the last release and finds them there
    (a build adds only its own footers and PNGs, as a new release does)."""
    return settings.workspace / SITE_BUILD_FOLDER / "chart-cache"


def generate_pages(
    settings: Settings, release_dir: Path | None = None, renderer: ChartRenderer | None = None
) -> Path:
    """Write the site's Markdown, charts and assets for the latest release; return the docs folder.

    `release_dir` (optional) picks one release folder; all releases of its package get their page.
    `renderer` (optional) renders the charts; by default one on the workspace's chart cache, with a
    process per core.
    """
    packages = release_dir.parent if release_dir else package_dir(settings)
    current, releases = load_releases(packages)
    if release_dir is not None:
        current = next(r for r in releases if r.path.resolve() == release_dir.resolve())
    docs = docs_dir(settings)
    if docs.exists():
        shutil.rmtree(docs)
    docs.mkdir(parents=True)
    ctx = SiteContext(
        release=current,
        releases=releases,
        docs_dir=docs,
        renderer=renderer or ChartRenderer(chart_cache_dir(settings)),
        site_url=settings.site_url,
    )
    try:
        write_place_pages(ctx)
        write_reference_pages(ctx, settings)
        ctx.finish()
    finally:
        ctx.renderer.close()
    handwritten = _copy_handwritten(docs)
    _write_config(settings, ctx, handwritten)
    return docs


def _copy_handwritten(docs: Path) -> list[str]:
    """Theme assets and hand-written pages (about, steward guide) from the repository's site/ folder."""
    shutil.copytree(
        SITE_SOURCES / "assets", docs / "assets", dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.md")
    )
    pages = []
    for page in sorted(SITE_SOURCES.rglob("*.md")):
        relative = page.relative_to(SITE_SOURCES)
        if relative.parts[0] in ("assets", "overrides"):
            continue
        target = docs / relative
        if target.exists():
            continue  # generated pages win over hand-written ones of the same name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(page, target)
        pages.append(relative.as_posix())
    if any(page.startswith("steward/") for page in pages):
        # The steward guide links to the validation rules, generated from the same rules file the
        # pipeline and `instep check` use.
        from expectations import rules_markdown

        (docs / "steward" / "rules.md").write_text(
            "# Validation rules\n\nEvery rule a submission is checked against, in the order they apply.\n\n"
            + rules_markdown(),
            encoding="utf-8",
        )
        pages.append("steward/rules.md")
    if any(page.startswith("factories/") for page in pages):
        pages.append(_write_factories_pages(docs))
    return pages


def _write_factories_pages(docs: Path) -> str:
    """The submission templates as downloads beside the factories' page, and the rules in words (from
    the rules file the pipeline and `instep check` use); returns the rules page's path."""
    from expectations import rules_in_words
    from instep.demo.templates import CSV_TEMPLATE, EXAMPLE, TEMPLATES_DIR, XLSX_TEMPLATE

    downloads = docs / "factories" / "templates"
    downloads.mkdir(parents=True, exist_ok=True)
    for name in (XLSX_TEMPLATE, CSV_TEMPLATE, EXAMPLE):
        shutil.copy2(TEMPLATES_DIR / name, downloads / name)
    (docs / "factories" / "rules.md").write_text(
        "# The rules a submission must meet\n\nEvery rule `instep check` and the programme's pipeline apply, "
        "in the order they apply.\n\n" + rules_in_words(),
        encoding="utf-8",
    )
    return "factories/rules.md"


SCOPE3_RECIPE = "data/scope3-recipe.md"


def _nav(ctx: SiteContext, handwritten: list[str]) -> list[Any]:
    parks = [
        {title: path}
        for path, title in ctx.written.items()
        if path.startswith("parks/") and path != "parks/index.md"
    ]
    releases = [{f"Release {r.version}": f"releases/{r.version}/index.md"} for r in reversed(ctx.releases)]
    dictionary = [
        {title: path}
        for path, title in ctx.written.items()
        if path.startswith("data-dictionary/") and path != "data-dictionary/index.md"
    ]
    nav: list[Any] = [
        {"Home": "index.md"},
        {"Parks": ["parks/index.md", {"Compare parks": "compare/index.md"}, *parks]},
        {"Facilities": "facilities/index.md"},
        {"Methodology": "methodology/index.md"},
        {"Glossary": "glossary/index.md"},
        {
            "Data": [
                {"Downloads": "downloads/index.md"},
                {"Table explorer": "explorer/index.md"},
                {"Data dictionary": ["data-dictionary/index.md", *dictionary]},
                {"Data quality": "data-quality/index.md"},
                {"Releases": ["releases/index.md", *releases]},
                *([{"Scope 3 recipe": SCOPE3_RECIPE}] if SCOPE3_RECIPE in handwritten else []),
            ]
        },
    ]
    if "about.md" in handwritten:
        nav.append({"About": "about.md"})
    factories = sorted(p for p in handwritten if p.startswith("factories/"))
    if factories:
        nav.append(
            {"For factories": ["factories/index.md", *(p for p in factories if p != "factories/index.md")]}
        )
    steward = sorted(p for p in handwritten if p.startswith("steward/"))
    if steward:
        index = [p for p in steward if p == "steward/index.md"]
        nav.append({"Steward guide": index + [p for p in steward if p not in index]})
    return nav


def _write_config(settings: Settings, ctx: SiteContext, handwritten: list[str]) -> Path:
    release: Release = ctx.release
    config = {
        "INHERIT": str(BASE_CONFIG),
        "docs_dir": "docs",
        "site_dir": "site",
        "site_url": settings.site_url,
        "theme": {"name": "material", "custom_dir": str(SITE_SOURCES / "overrides")},
        "nav": _nav(ctx, handwritten),
        "extra": {
            "generator": False,
            "instep": {
                "version": release.version,
                "date": release.date,
                "license": release.license,
                "synthetic": release.synthetic,
            },
        },
    }
    path = config_path(settings)
    path.write_text(
        "# Generated by instep.site.build; edit the repository's mkdocs.yml instead.\n"
        + yaml.safe_dump(config, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    return path


def run_mkdocs(settings: Settings) -> Path:
    """`mkdocs build --strict` on the generated pages; raises SiteBuildError with MkDocs' output."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean", "-f", str(config_path(settings))],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise SiteBuildError(f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}")
    return built_site_dir(settings)


PACKAGE_POINTERS = ("latest.json", "releases.json", "LATEST", "signing-key.pub")


def copy_downloads(settings: Settings, packages: Path) -> None:
    """Every release's files under site/downloads/<version>/ (hard links where the disk allows), and the
    package's pointers to the latest release beside them."""
    for release in load_releases(packages)[1]:
        target = built_site_dir(settings) / "downloads" / release.version
        for relative, _, _ in release.files():
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(release.path / relative, destination)
            except OSError:
                shutil.copy2(release.path / relative, destination)
    # The stable addresses (latest.json, releases.json) and the current public key, as in the package folder.
    for name in PACKAGE_POINTERS:
        if (packages / name).is_file():
            (built_site_dir(settings) / "downloads").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(packages / name, built_site_dir(settings) / "downloads" / name)


def current_release(settings: Settings, release_dir: Path | None = None) -> Release:
    """The release the site shows: `release_dir`, else the package's latest."""
    current, releases = load_releases(release_dir.parent if release_dir else package_dir(settings))
    if release_dir is None:
        return current
    return next(r for r in releases if r.path.resolve() == release_dir.resolve())


def add_facility_search(settings: Settings, release: Release) -> int:
    """One short search entry per public facility (see instep.site.search); the index's size in bytes."""
    parks = release.table("parks")
    names = dict(zip(parks["park_id"], parks["name"], strict=True))
    facilities = release.table("facilities").sort_values("facility_id")
    return search.add_entries(built_site_dir(settings), search.facility_entries(facilities, names))


def complete_site(settings: Settings, release_dir: Path | None = None) -> int:
    """After MkDocs: the facilities' search entries and every release's downloads; returns the search
    index's size in bytes."""
    index_bytes = add_facility_search(settings, current_release(settings, release_dir))
    copy_downloads(settings, release_dir.parent if release_dir else package_dir(settings))
    return index_bytes


def build_site(settings: Settings, release_dir: Path | None = None) -> Path:
    """Generate the pages, build them with MkDocs and complete the site; return the built site folder."""
    generate_pages(settings, release_dir)
    site = run_mkdocs(settings)
    complete_site(settings, release_dir)
    return site
