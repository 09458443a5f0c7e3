"""Site: the transparency site's pages generated from the latest release (`site_pages`), then built
with MkDocs (`transparency_site`). Thin: the work is in `instep.site.build`; the site reads only the
release folders, never the warehouse.
"""

import os

import dagster as dg

from assets.common import DATA_ENGINEERING, progress
from instep.settings import Settings
from instep.site.build import built_site_dir, copy_downloads, generate_pages, package_dir, run_mkdocs
from pipelines.resources import InstepWorkspace

GROUP = "site"


def _settings(instep: InstepWorkspace) -> Settings:
    settings = instep.settings()
    if site_url := os.environ.get("INSTEP_SITE_URL"):
        settings = settings.with_(site_url=site_url if site_url.endswith("/") else site_url + "/")
    return settings


@dg.asset(
    group_name=GROUP,
    deps=[dg.AssetKey("release_package")],
    kinds={"markdown"},
    owners=[DATA_ENGINEERING],
    description=(
        "The site's Markdown pages, chart bundles (SVG, PNG, Vega-Lite spec, CSV) and theme assets, "
        "generated from the latest published release into the workspace's site-build/docs folder."
    ),
)
def site_pages(context: dg.AssetExecutionContext, instep: InstepWorkspace) -> dg.MaterializeResult:
    settings = _settings(instep)
    docs = generate_pages(settings)
    pages = sorted(p.relative_to(docs).as_posix() for p in docs.rglob("*.md"))
    charts = len(list(docs.rglob("*.vl.json")))
    progress(context, f"site: {len(pages)} pages and {charts} charts written to {docs}")
    return dg.MaterializeResult(
        metadata={"docs_path": dg.MetadataValue.path(str(docs)), "pages": len(pages), "charts": charts}
    )


@dg.asset(
    group_name=GROUP,
    deps=[site_pages],
    kinds={"mkdocs"},
    owners=[DATA_ENGINEERING],
    description=(
        "The static transparency site: `mkdocs build --strict` of the generated pages, plus every "
        "release's files under downloads/<version>/. Browse it with `instep serve`."
    ),
)
def transparency_site(context: dg.AssetExecutionContext, instep: InstepWorkspace) -> dg.MaterializeResult:
    settings = _settings(instep)
    site = run_mkdocs(settings)
    copy_downloads(settings, package_dir(settings))
    progress(context, f"site: built {site}")
    return dg.MaterializeResult(
        metadata={
            "site_path": dg.MetadataValue.path(str(built_site_dir(settings))),
            "html_pages": len(list(site.rglob("*.html"))),
        }
    )
