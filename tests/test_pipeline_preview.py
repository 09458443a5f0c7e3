"""The nightly preview: indicators, scorecards and a preview release and site inside the workspace only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assets import keys
from instep.demo.generate import generate_demo
from instep.settings import Settings
from pipelines.definitions import build_defs
from tests.conftest import AS_OF


@pytest.fixture
def demo_workspace(tmp_path: Path) -> Settings:
    settings = Settings(workspace=tmp_path / "ws", datapackages_dir=tmp_path / "datapackages", as_of=AS_OF)
    generate_demo(settings.workspace, facilities=4, months=13, seed=11)
    return settings


def test_nightly_schedule_runs_the_preview_job_at_two():
    defs = build_defs(Settings())
    schedule = defs.resolve_schedule_def("nightly_preview")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.job_name == "nightly_preview_job"


def test_preview_builds_a_release_and_site_in_the_workspace_and_publishes_nothing(demo_workspace: Settings):
    defs = build_defs(demo_workspace)
    assert defs.resolve_job_def("ingest_job").execute_in_process().success

    result = defs.resolve_job_def("nightly_preview_job").execute_in_process()

    assert result.success
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert {keys.PARK_ANNUAL, keys.SCORECARDS, keys.PUB_TABLES, keys.PREVIEW_SITE} <= materialized
    assert keys.RELEASE_PACKAGE not in materialized
    preview = demo_workspace.preview()
    descriptor = json.loads(
        (preview.datapackages_dir / "instep-open-data" / "preview" / "datapackage.json").read_text()
    )
    assert descriptor["version"] == "preview"
    assert (preview.site_build_dir / "site" / "index.html").is_file()
    assert not demo_workspace.datapackages_dir.exists()

    # A second night replaces the preview instead of refusing to change a published version.
    assert defs.resolve_job_def("nightly_preview_job").execute_in_process().success
