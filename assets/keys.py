"""Every asset's key, in one place: `<layer>/<name>`, the name being the warehouse table it writes
(or the files it makes). Modules use these constants; a key is never typed again as a string.

Layers: `raw` as received (registry, submission files, staged rows), `warehouse` judged and settled,
`reports` for the steward, `indicators` computed before disclosure (`out_*`), `published` what
disclosure lets out (`pub_*`, the release), `site` the transparency site.
"""

import dagster as dg

REGISTRY = dg.AssetKey(["raw", "registry"])  # tables parks, facilities
SUBMISSION_FILES = dg.AssetKey(["raw", "submission_files"])  # table submission_files (+ staged_rows)
SUBMISSION_ROWS = dg.AssetKey(["warehouse", "submission_rows"])  # tables submission_rows, row_issues
OBSERVATIONS = dg.AssetKey(["warehouse", "observations"])
SUBMISSION_REPORTS = dg.AssetKey(["reports", "submission_reports"])  # files reports/*.md


def _indicators(table: str) -> dg.AssetKey:
    return dg.AssetKey(["indicators", table])


WASTEWATER_RESULTS = _indicators("out_wastewater_results")
FACILITY_MONTHLY = _indicators("out_facility_monthly")
DATA_QUALITY = _indicators("out_data_quality")
PARK_MONTHLY = _indicators("out_park_monthly")
PARK_COVERAGE = _indicators("out_park_coverage")
PARK_ANNUAL = _indicators("out_park_annual")
SCORECARDS = _indicators("out_scorecards")

PUB_TABLES = dg.AssetKey(["published", "pub_tables"])  # tables pub_*
RELEASE_PACKAGE = dg.AssetKey(["published", "release_package"])  # datapackages/<package>/<version>/

SITE_PAGES = dg.AssetKey(["site", "pages"])  # site-build/docs
TRANSPARENCY_SITE = dg.AssetKey(["site", "transparency_site"])  # site-build/site
PREVIEW_SITE = dg.AssetKey(["site", "preview_site"])  # preview/

# The keys before they said their layer, for the run history (see the steward guide's changelog).
RENAMED_FROM = {
    "raw_registry": REGISTRY,
    "raw_submission_files": SUBMISSION_FILES,
    "validated_submission_rows": SUBMISSION_ROWS,
    "core_observations": OBSERVATIONS,
    "submission_reports": SUBMISSION_REPORTS,
    **{
        key.path[-1]: key
        for key in (
            WASTEWATER_RESULTS,
            FACILITY_MONTHLY,
            DATA_QUALITY,
            PARK_MONTHLY,
            PARK_COVERAGE,
            PARK_ANNUAL,
            SCORECARDS,
        )
    },
    "pub_tables": PUB_TABLES,
    "release_package": RELEASE_PACKAGE,
    "site_pages": SITE_PAGES,
    "transparency_site": TRANSPARENCY_SITE,
    "preview_site": PREVIEW_SITE,
}


def table_of(key: dg.AssetKey) -> str:
    """The warehouse table an asset of the indicators or warehouse layer writes."""
    return key.path[-1]
