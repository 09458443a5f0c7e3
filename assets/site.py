"""Site: the transparency site's pages generated from the latest release (`site_pages`), then built
with MkDocs (`transparency_site`). Thin: the work is in `instep.site.build`; the site reads only the
release folders, never the warehouse.
"""

import shutil

import dagster as dg

from assets import keys
from assets.common import DATA_ENGINEERING, WAREHOUSE_POOL, progress, readable_failures
from assets.resources import Workspace
from instep.release.writer import publish_release
from instep.site.build import (
    build_site,
    built_site_dir,
    chart_cache_dir,
    complete_site,
    generate_pages,
    run_mkdocs,
)
from instep.site.chartcache import ChartRenderer

GROUP = "site"
PREVIEW_VERSION = "preview"


@dg.asset(
    key=keys.SITE_PAGES,
    group_name=GROUP,
    deps=[keys.RELEASE_PACKAGE],
    kinds={"markdown"},
    owners=[DATA_ENGINEERING],
    description=(
        "The site's Markdown pages, chart bundles (SVG, PNG on park and overview charts, Vega-Lite spec, "
        "CSV) and theme assets, generated from the latest published release into the workspace's "
        "site-build/docs folder. "
        "Charts are rendered in parallel and kept in site-build/chart-cache: unchanged ones are not "
        "rendered again."
    ),
)
@readable_failures
def site_pages(context: dg.AssetExecutionContext, instep: Workspace) -> dg.MaterializeResult:
    settings = instep.settings()
    renderer = ChartRenderer(chart_cache_dir(settings))
    docs = generate_pages(settings, renderer=renderer)
    pages = sorted(p.relative_to(docs).as_posix() for p in docs.rglob("*.md"))
    charts = len(list(docs.rglob("*.vl.json")))
    progress(
        context,
        f"site: {len(pages)} pages and {charts} charts written to {docs} "
        f"({renderer.rendered} charts rendered, the others unchanged and taken from the chart cache)",
    )
    return dg.MaterializeResult(
        metadata={
            "docs_path": dg.MetadataValue.path(str(docs)),
            "pages": len(pages),
            "charts": charts,
            "charts_rendered": renderer.rendered,
        }
    )


@dg.asset(
    key=keys.TRANSPARENCY_SITE,
    group_name=GROUP,
    deps=[keys.SITE_PAGES],
    kinds={"mkdocs"},
    owners=[DATA_ENGINEERING],
    description=(
        "The static transparency site: `mkdocs build --strict` of the generated pages, plus every "
        "release's files under downloads/<version>/, and one short search entry per public facility. "
        "Browse it with `instep serve`."
    ),
)
@readable_failures
def transparency_site(context: dg.AssetExecutionContext, instep: Workspace) -> dg.MaterializeResult:
    settings = instep.settings()
    site = run_mkdocs(settings)
    search_bytes = complete_site(settings)
    progress(context, f"site: built {site} (search index {search_bytes:,} bytes)")
    return dg.MaterializeResult(
        metadata={
            "site_path": dg.MetadataValue.path(str(built_site_dir(settings))),
            "html_pages": len(list(site.rglob("*.html"))),
            "search_index_bytes": search_bytes,
        }
    )


@dg.asset(
    key=keys.PREVIEW_SITE,
    group_name=GROUP,
    deps=[keys.PUB_TABLES, keys.SCORECARDS],
    kinds={"frictionless", "mkdocs"},
    owners=[DATA_ENGINEERING],
    pool=WAREHOUSE_POOL,
    description=(
        "A preview of the next release and its site, from the publishable tables as they are tonight: "
        "written inside the workspace (preview/datapackages, preview/site-build), replaced at every run, "
        "never among the published releases. Built by the nightly schedule."
    ),
)
@readable_failures
def preview_site(context: dg.AssetExecutionContext, instep: Workspace) -> dg.MaterializeResult:
    preview = instep.settings().preview()
    # A preview is not a release: it is rebuilt from scratch, so immutability does not apply to it.
    shutil.rmtree(preview.datapackages_dir, ignore_errors=True)
    with instep.warehouse() as con:
        release = publish_release(preview, version=PREVIEW_VERSION, release_date=preview.as_of, con=con)
    site = build_site(preview, release.path)
    progress(context, f"preview: release in {release.path}, site in {site}")
    return dg.MaterializeResult(
        metadata={
            "release_path": dg.MetadataValue.path(str(release.path)),
            "site_path": dg.MetadataValue.path(str(built_site_dir(preview))),
            "rows_total": sum(release.rows.values()),
        }
    )
