"""Publish: disclosure applied (`pub_tables`), then the versioned, immutable data package (`release_package`).

Both are thin: disclosure lives in `instep.disclosure` and the registry/reference tables in
`instep.release.pub_tables`; the package is written by `instep.release.publish_release`.
"""

import dagster as dg
from pydantic import Field

from assets import keys
from assets.common import DATA_ENGINEERING, WAREHOUSE_POOL, markdown_table, progress, readable_failures
from assets.resources import Workspace
from instep.release import default_version, publish_release, resolve_release_date
from instep.release.pub_tables import build_pub_tables

GROUP = "publish"

# The computed tables disclosure reads (defined by the indicators stage); the scorecards read its
# pub_park_annual and publish pub_scorecards themselves.
UPSTREAM = [
    keys.REGISTRY,
    keys.FACILITY_MONTHLY,
    keys.PARK_MONTHLY,
    keys.PARK_ANNUAL,
    keys.WASTEWATER_RESULTS,
    keys.DATA_QUALITY,
    keys.PARK_COVERAGE,
]


@dg.asset(
    key=keys.PUB_TABLES,
    group_name=GROUP,
    deps=UPSTREAM,
    kinds={"duckdb"},
    owners=[DATA_ENGINEERING],
    pool=WAREHOUSE_POOL,
    description=(
        "The publishable tables `pub_<resource>`, exactly in the shape of the metadata resources: "
        "disclosure applied to the computed tables (aggregate-only facilities only inside park totals, "
        "park cells that would reveal them withheld with their rule, sensitive metrics never per "
        "facility), plus parks, public facilities, metric catalogue, emission "
        "factors and ZDHC limits."
    ),
)
@readable_failures
def pub_tables(context: dg.AssetExecutionContext, instep: Workspace) -> dg.MaterializeResult:
    with instep.warehouse(bounded=True) as con:
        rows = build_pub_tables(con, instep.settings())
    progress(context, f"publish: {len(rows)} publishable tables ({sum(rows.values()):,} rows)")
    return dg.MaterializeResult(
        metadata={"rows_per_table": markdown_table(["table", "rows"], sorted(rows.items())), **rows}
    )


class ReleaseConfig(dg.Config):
    version: str = Field(
        default="",
        description=(
            "Version to publish. Empty: the release date as YYYY.MM.DD (YYYY.MM.DD.2, ... when that day "
            "already has a release with other content; no new release when the content is unchanged)."
        ),
    )
    release_date: str = Field(
        default="",
        description="Release date YYYY-MM-DD. Empty: SOURCE_DATE_EPOCH, else the workspace's as-of date.",
    )


@dg.asset(
    key=keys.RELEASE_PACKAGE,
    group_name=GROUP,
    deps=[keys.PUB_TABLES, keys.SCORECARDS],
    kinds={"frictionless", "parquet", "duckdb"},
    owners=[DATA_ENGINEERING],
    pool=WAREHOUSE_POOL,
    description=(
        "The versioned Frictionless data package datapackages/<package>/<version>/: CSV, Parquet and a "
        "DuckDB database, datapackage.json, CHANGELOG.md, CITATION.cff/.bib, a zip and SHA256SUMS. "
        "Immutable and byte-reproducible; privacy-scanned before it is published."
    ),
)
@readable_failures
def release_package(
    context: dg.AssetExecutionContext, config: ReleaseConfig, instep: Workspace
) -> dg.MaterializeResult:
    settings = instep.settings()
    when = resolve_release_date(config.release_date or None, settings)
    progress(context, f"release: {settings.package_name} {config.version or default_version(when)} ({when})")
    with instep.warehouse() as con:
        release = publish_release(settings, version=config.version or None, release_date=when, con=con)
    verb = "published" if release.published else "already published with the same content; nothing written"
    progress(context, f"release: {release.version} {verb} in {release.path}")
    return dg.MaterializeResult(
        metadata={
            "version": release.version,
            "release_date": release.release_date.isoformat(),
            "release_path": dg.MetadataValue.path(str(release.path)),
            "published": release.published,
            "datapackage_sha256": release.datapackage_sha256,
            "zip_sha256": release.zip_sha256,
            "duckdb_byte_reproducible": release.duckdb_reproducible,
            "rows_per_resource": markdown_table(["resource", "rows"], list(release.rows.items())),
            "rows_total": sum(release.rows.values()),
        }
    )
