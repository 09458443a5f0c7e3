"""One demo release and site, built once per test run and read by every module that only reads it.

With several test processes (pytest-xdist) the first one to ask builds it under a lock in the run's
shared temporary folder; the others wait and read the same files. Tests must not change it: a test that
needs to go on from it (a restatement, a second release) copies it first with `copy_demo`.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from filelock import FileLock

from assets import ASSETS, PREVIEW_ASSETS
from assets.resources import InstepWorkspace
from assets.site import transparency_site
from instep.demo import generate_demo
from instep.settings import Settings
from instep.site.build import built_site_dir, chart_cache_dir
from pipelines.runs import release_run_config
from tests.conftest import AS_OF

VERSION = "1.0.0"
RELEASE_DATE = "2026-11-25"
# The demo's size: small enough to build in seconds, large enough for every page kind, a full year,
# facilities with and without an OS ID, and a park whose figures the disclosure rules withhold.
FACILITIES, MONTHS, SEED = 8, 14, 5


@dataclass(frozen=True)
class BuiltSite:
    settings: Settings
    path: Path  # the built site
    release_dir: Path


def _settings(root: Path) -> Settings:
    return Settings(workspace=root / "workspace", datapackages_dir=root / "datapackages", as_of=AS_OF)


def _build(root: Path) -> None:
    settings = _settings(root)
    generate_demo(settings.workspace, facilities=FACILITIES, months=MONTHS, seed=SEED)
    # What the README's main command (`instep run`, the main job) builds: every stage, without the
    # nightly preview (its own tests run `instep preview`).
    main_chain = [a for a in ASSETS if a not in PREVIEW_ASSETS]
    result = dg.materialize(
        main_chain,
        resources={"instep": InstepWorkspace.from_settings(settings)},
        run_config=release_run_config(VERSION, RELEASE_DATE),
    )
    assert result.success
    metadata = result.asset_materializations_for_node(transparency_site.op.name)[0].metadata
    assert metadata["site_path"].value == str(built_site_dir(settings))


def shared_demo(run_temp: Path) -> BuiltSite:
    """The run's demo release and site (built on first use); `run_temp` is the run's temporary folder."""
    root = run_temp / "shared-demo"
    with FileLock(str(root) + ".lock"):
        finished = root / "built"
        if not finished.is_file():
            shutil.rmtree(root, ignore_errors=True)
            _build(root)
            finished.write_text("", encoding="utf-8")
    settings = _settings(root)
    return BuiltSite(
        settings, built_site_dir(settings), settings.datapackages_dir / settings.package_name / VERSION
    )


def run_temp_dir(basetemp: Path) -> Path:
    """The temporary folder every test process of this run shares (xdist gives each worker a subfolder)."""
    return basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp


def copy_demo(demo: BuiltSite, destination: Path) -> Settings:
    """The demo's workspace and published releases copied to `destination` to go on from (the copy's own
    runs do not touch the shared demo): its data, releases and chart cache, as a programme's workspace
    keeps them from one release to the next; not the built site, its pages or the Dagster instance."""
    settings = demo.settings.with_(
        workspace=destination / "workspace", datapackages_dir=destination / "datapackages"
    )
    site_build = demo.settings.site_build_dir
    chart_cache = chart_cache_dir(demo.settings)

    def not_copied(folder: str, names: list[str]) -> set[str]:
        if Path(folder) == demo.settings.workspace:
            return {"dagster"}
        if Path(folder) == site_build:
            return {name for name in names if site_build / name != chart_cache}
        return set()

    shutil.copytree(demo.settings.workspace, settings.workspace, ignore=not_copied)
    shutil.copytree(demo.settings.datapackages_dir, settings.datapackages_dir)
    return settings
