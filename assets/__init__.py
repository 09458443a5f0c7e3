"""The asset graph, one module per stage: ingest -> validate -> indicators -> scorecards -> publish -> site.

Asset keys say their layer and match their tables (`raw/submission_files`, `warehouse/observations`,
`indicators/out_park_annual`, `published/pub_tables`, ...): all of them are defined in `assets.keys`.
"""

from assets import constraints, indicators, ingest, publish, scorecards, site, validate

ASSETS = (
    ingest.raw_registry,
    ingest.raw_submission_files,
    validate.settle_submission_rows,
    validate.submission_reports,
    indicators.indicator_tables,
    scorecards.out_scorecards,
    publish.pub_tables,
    publish.release_package,
    site.site_pages,
    site.transparency_site,
    site.preview_site,
)

ASSET_CHECKS = (
    ingest.archive_intact,
    validate.row_states_add_up,
    validate.observations_pass_suite,
    scorecards.scores_within_bounds,
    *constraints.CONSTRAINT_CHECKS,
)

# Built by the nightly schedule into the workspace; never published.
PREVIEW_ASSETS = (site.preview_site,)
