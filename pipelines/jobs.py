"""Jobs, selected by asset group, and the nightly schedule.

- `ingest_job`: what the inbox sensor launches for a new file: ingest and validate only (ledger,
  observations, reports). Indicators, scorecards, the release and the site are computed by `main_job`
  (`instep run`), `release_job` (`instep release`) and, as a preview, the nightly schedule.
- `main_job`: the whole chain, ingest to site (what `instep run` executes).
- `release_job`: indicators to release and site; the version and date are run configuration.
- `nightly_preview_job`: indicators, scorecards and a preview release and site in the workspace.

Every job that reads observations includes the blocking checks that guard them, so a failed check stops
the run before anything is computed from an inconsistent warehouse.
"""

import dagster as dg

from assets import PREVIEW_ASSETS, keys
from assets.validate import observations_pass_suite, row_states_add_up

# Runs that write the warehouse carry this tag; dagster.yaml lets one of them run at a time.
WAREHOUSE_TAGS = {"instep/warehouse": "write"}

STAGES = ("ingest", "validate", "indicators", "scorecards", "publish", "site")
PREVIEW = dg.AssetSelection.assets(*PREVIEW_ASSETS)
GUARDS = dg.AssetSelection.checks(row_states_add_up, observations_pass_suite)

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups("ingest", "validate"),
    tags=WAREHOUSE_TAGS,
    description=(
        "What the inbox sensor launches for each new file: ingest and validate it (ledger, observations, "
        "one report per submission) and nothing further; indicators, scorecards, the release and the "
        "site come with `instep run`, `instep release` or the nightly preview."
    ),
)

main_job = dg.define_asset_job(
    "main_job",
    selection=dg.AssetSelection.groups(*STAGES) - PREVIEW,
    tags=WAREHOUSE_TAGS,
    description=(
        "The whole chain on the workspace: ingest -> validate -> indicators -> scorecards -> release -> "
        "site. Without a configured version the release is automatic (see published/release_package)."
    ),
)

release_job = dg.define_asset_job(
    "release_job",
    selection=(dg.AssetSelection.groups("indicators", "scorecards", "publish", "site") - PREVIEW) | GUARDS,
    tags=WAREHOUSE_TAGS,
    description=(
        "Cut a release from the warehouse as it is: indicators, scorecards, disclosure, the versioned data "
        "package and the site. Set the config version of published/release_package (and release_date, "
        "YYYY-MM-DD)."
    ),
)

nightly_preview_job = dg.define_asset_job(
    "nightly_preview_job",
    selection=dg.AssetSelection.groups("indicators", "scorecards")
    | dg.AssetSelection.assets(keys.PUB_TABLES)
    | PREVIEW
    | GUARDS,
    tags=WAREHOUSE_TAGS,
    description="Fresh indicators and scorecards, and a preview of the next release and site (workspace).",
)

nightly_preview_schedule = dg.ScheduleDefinition(
    name="nightly_preview",
    job=nightly_preview_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every night at 02:00 UTC: fresh indicators and a preview site of what a release would show.",
)

JOBS = (ingest_job, main_job, release_job, nightly_preview_job)
