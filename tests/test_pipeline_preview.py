"""The nightly preview's schedule (what it builds is tested through `instep preview` in test_cli_run)."""

from __future__ import annotations

from instep.settings import Settings
from pipelines.definitions import build_defs


def test_nightly_schedule_runs_the_preview_job_at_two():
    defs = build_defs(Settings())
    schedule = defs.resolve_schedule_def("nightly_preview")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.job_name == "nightly_preview_job"
