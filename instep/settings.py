"""Where things live and the choices that shape a run, in one place.

Every command, asset and test builds a `Settings`; nothing reads paths from module globals, so a test can
point the whole pipeline at a temporary folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WORKSPACE = REPO_ROOT / "var"
DEFAULT_DATAPACKAGES = REPO_ROOT / "datapackages"
DEFAULT_PACKAGE_NAME = "instep-open-data"


def _env_date(name: str) -> date | None:
    raw = os.environ.get(name)
    return date.fromisoformat(raw) if raw else None


# Where the site is built in the workspace (the nightly preview builds its own beside it).
SITE_BUILD_FOLDER = "site-build"


@dataclass(frozen=True)
class Settings:
    """Paths and methodological choices for one workspace.

    `workspace` holds the steward's working state (registry, inbox, archive, warehouse, reports, site
    build); published releases go to `datapackages_dir`.
    """

    workspace: Path = DEFAULT_WORKSPACE
    datapackages_dir: Path = DEFAULT_DATAPACKAGES
    package_name: str = DEFAULT_PACKAGE_NAME
    gwp_set: str = "ar5"
    rubric_version: int = 1
    # Submissions for months after this date are rejected as "period in the future".
    as_of: date = field(default_factory=lambda: _env_date("INSTEP_AS_OF") or date.today())
    # Demo workspaces are labelled synthetic on every published file and page.
    synthetic: bool = True
    # Public address of the transparency site (sitemap, canonical links, JSON-LD download URLs).
    site_url: str = "http://127.0.0.1:8000/"
    # Folder of the site build inside the workspace; the nightly preview builds into its own.
    site_build_folder: str = SITE_BUILD_FOLDER

    @property
    def registry_dir(self) -> Path:
        return self.workspace / "registry"

    @property
    def inbox_dir(self) -> Path:
        return self.workspace / "inbox"

    @property
    def archive_dir(self) -> Path:
        return self.workspace / "archive"

    @property
    def reports_dir(self) -> Path:
        return self.workspace / "reports"

    @property
    def warehouse_path(self) -> Path:
        return self.workspace / "warehouse.duckdb"

    @property
    def lock_path(self) -> Path:
        return self.workspace / "warehouse.lock"

    @property
    def run_lock_path(self) -> Path:
        """Held by a whole `instep run` or `instep release`, site included (see warehouse.run_lock)."""
        return self.workspace / "run.lock"

    @property
    def dagster_home(self) -> Path:
        """The Dagster instance of the workspace: run history, materialisations and check results of
        `instep run`, `instep release` and `instep ui` (see pipelines/instance.py)."""
        return self.workspace / "dagster"

    @property
    def site_build_dir(self) -> Path:
        return self.workspace / self.site_build_folder

    def preview(self) -> Settings:
        """Where the nightly preview of the next release and its site go: inside the workspace, never
        among the published releases."""
        return self.with_(
            datapackages_dir=self.workspace / "preview" / "datapackages",
            site_build_folder="preview/site-build",
        )

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from INSTEP_* environment variables, with defaults that work out of the box."""
        kwargs: dict[str, object] = {}
        if ws := os.environ.get("INSTEP_WORKSPACE"):
            kwargs["workspace"] = Path(ws).resolve()
        if dp := os.environ.get("INSTEP_DATAPACKAGES"):
            kwargs["datapackages_dir"] = Path(dp).resolve()
        if gwp := os.environ.get("INSTEP_GWP_SET"):
            kwargs["gwp_set"] = gwp.lower()
        if site_url := os.environ.get("INSTEP_SITE_URL"):
            kwargs["site_url"] = site_url if site_url.endswith("/") else site_url + "/"
        if os.environ.get("INSTEP_SYNTHETIC", "").lower() in {"0", "false", "no"}:
            kwargs["synthetic"] = False
        return cls(**kwargs)  # type: ignore[arg-type]
