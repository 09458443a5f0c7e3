"""The one resource every asset uses: the workspace (paths and methodological choices) and its warehouse.

The fields mirror `instep.settings.Settings`, so the Dagster UI shows (and the launchpad can override)
which workspace a run writes to. Defaults come from the `INSTEP_*` environment variables, which is how
`dagster dev` is pointed at a workspace; tests and the CLI build the resource from their own `Settings`.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import Field

from instep.settings import DEFAULT_PACKAGE_NAME, Settings
from instep.warehouse import WarehouseBusy, connect

# Progress lines for people watching a run from the command line; assets also log them to Dagster.
progress_log = logging.getLogger("instep.pipeline")


class InstepWorkspace(dg.ConfigurableResource):
    """The steward's workspace: registry, inbox, archive, reports, warehouse, site build, and releases."""

    workspace: str = Field(description="Workspace folder (registry/, inbox/, archive/, warehouse.duckdb).")
    datapackages_dir: str = Field(description="Folder the published releases are written to.")
    package_name: str = Field(default=DEFAULT_PACKAGE_NAME, description="Name of the data package.")
    gwp_set: str = Field(default="ar5", description="IPCC assessment report of the GWPs: ar4, ar5 or ar6.")
    rubric_version: int = Field(default=1, description="Version of the scorecard rubric (instep/rubric/).")
    as_of: str = Field(
        default="",
        description="Reporting date YYYY-MM-DD: later months are 'in the future'. Empty: the day of the run.",
    )
    synthetic: bool = Field(default=True, description="Label every output as synthetic demonstration data.")
    site_url: str = Field(
        default="http://127.0.0.1:8000/",
        description="Public address of the transparency site (sitemap, canonical links).",
    )
    lock_wait_seconds: float = Field(
        default=900.0, description="How long a step waits for another run to finish writing the warehouse."
    )

    @classmethod
    def from_settings(cls, settings: Settings, *, as_of_fixed: bool = True) -> InstepWorkspace:
        return cls(
            workspace=str(settings.workspace),
            datapackages_dir=str(settings.datapackages_dir),
            package_name=settings.package_name,
            gwp_set=settings.gwp_set,
            rubric_version=settings.rubric_version,
            as_of=settings.as_of.isoformat() if as_of_fixed else "",
            synthetic=settings.synthetic,
            site_url=settings.site_url,
        )

    @classmethod
    def from_env(cls) -> InstepWorkspace:
        """Defaults that work out of the box: `var/` and `datapackages/` in the repository."""
        # Without INSTEP_AS_OF the reporting date is the day of each run, not the day the UI started.
        return cls.from_settings(Settings.from_env(), as_of_fixed=bool(os.environ.get("INSTEP_AS_OF")))

    def settings(self) -> Settings:
        return Settings(
            workspace=Path(self.workspace),
            datapackages_dir=Path(self.datapackages_dir),
            package_name=self.package_name,
            gwp_set=self.gwp_set,
            rubric_version=self.rubric_version,
            as_of=date.fromisoformat(self.as_of) if self.as_of else date.today(),
            synthetic=self.synthetic,
            site_url=self.site_url,
        )

    @contextmanager
    def warehouse(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The warehouse, holding the single-writer lock; waits while another run is writing."""
        settings = self.settings()
        deadline = time.monotonic() + self.lock_wait_seconds
        with ExitStack() as stack:
            while True:
                try:
                    con = stack.enter_context(connect(settings))
                    break
                except WarehouseBusy:
                    if time.monotonic() >= deadline:
                        raise
                    progress_log.info("waiting for another run to finish writing the warehouse")
            yield con
