"""The Dagster code location: `build_defs()` assembles everything; `defs` is what `dagster dev` loads.

Nothing is wired at import time besides `defs`, whose workspace comes from the INSTEP_* environment
variables (default: `var/` and `datapackages/` in the repository). Tests and the CLI call
`build_defs(settings)` with their own workspace.
"""

import dagster as dg

from assets import ASSET_CHECKS, ASSETS
from assets.resources import InstepWorkspace, workspace_resource
from instep.settings import Settings
from pipelines.jobs import JOBS, ingest_job, nightly_preview_schedule
from pipelines.sensors import build_inbox_sensor


def build_defs(settings: Settings | None = None) -> dg.Definitions:
    """Fresh definitions for a workspace (default: from the environment)."""
    workspace = InstepWorkspace.from_env() if settings is None else InstepWorkspace.from_settings(settings)
    return dg.Definitions(
        assets=list(ASSETS),
        asset_checks=list(ASSET_CHECKS),
        jobs=list(JOBS),
        sensors=[build_inbox_sensor(ingest_job.name)],
        schedules=[nightly_preview_schedule],
        resources={"instep": workspace_resource(workspace)},
        # DuckDB has one writer: the steps of a run take turns in one process.
        executor=dg.in_process_executor,
    )


defs = build_defs()
