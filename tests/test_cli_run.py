"""`instep run`, `instep release` and `instep preview` through the real command line, on a small demo.

The first runs are processes of their own, two started at once as a steward's terminal and a cron job
would; the commands after them run through the same Click entry point in the test's process.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from instep.demo.generate import generate_demo
from instep.settings import REPO_ROOT, Settings
from tests.cli_helpers import invoke_instep
from tests.release_helpers import frictionless_validate


def instep(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return invoke_instep(args, env)


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("cli-run")
    generate_demo(root / "ws", facilities=5, months=13, seed=3)
    return {
        **os.environ,
        "INSTEP_WORKSPACE": str(root / "ws"),
        "INSTEP_DATAPACKAGES": str(root / "datapackages"),
        "INSTEP_AS_OF": "2026-11-25",
    }


RUN = ("run", "--version", "1.0.0", "--release-date", "2026-01-31")


@dataclass(frozen=True)
class FirstRuns:
    """Two `instep run` started at once on the demo workspace: the one that got the workspace, and the
    one refused because the other was working on it."""

    ran: subprocess.CompletedProcess[str]
    refused: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def first_runs(demo_env: dict[str, str]) -> FirstRuns:
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "pipelines", *RUN],
            env=demo_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=900) for process in processes]
    runs = sorted(
        (
            subprocess.CompletedProcess(p.args, p.returncode, out, err)
            for p, (out, err) in zip(processes, outputs, strict=True)
        ),
        key=lambda run: run.returncode,
    )
    return FirstRuns(ran=runs[0], refused=runs[1])


@pytest.fixture(scope="module")
def first_run(first_runs: FirstRuns) -> subprocess.CompletedProcess[str]:
    return first_runs.ran


def summary_counts(stdout: str) -> dict[str, int]:
    match = re.search(
        r"submissions: ([\d,]+) files \(([\d,]+) unreadable\), ([\d,]+) rows: ([\d,]+) accepted, "
        r"([\d,]+) rejected, ([\d,]+) superseded",
        stdout,
    )
    assert match, stdout
    names = ("files", "unreadable", "rows", "accepted", "rejected", "superseded")
    return {name: int(value.replace(",", "")) for name, value in zip(names, match.groups(), strict=True)}


def test_run_prints_progress_and_a_summary_whose_counts_add_up(first_run, demo_env):
    assert first_run.returncode == 0, first_run.stderr[-3000:]
    for stage in ("ingest:", "validate:", "indicators:", "scorecards:", "release:", "site:"):
        assert stage in first_run.stderr, f"no progress line for {stage}"
    counts = summary_counts(first_run.stdout)
    manifest = json.loads((Path(demo_env["INSTEP_WORKSPACE"]) / "demo-manifest.json").read_text())
    assert counts["files"] == manifest["files"]
    assert counts["rows"] == counts["accepted"] + counts["rejected"] + counts["superseded"]
    assert counts["rejected"] > 0 and counts["unreadable"] > 0


def test_run_writes_the_release_and_the_site_it_names(first_run, demo_env):
    release = Path(demo_env["INSTEP_DATAPACKAGES"]) / "instep-open-data" / "1.0.0"
    assert f"release:     1.0.0 in {release}" in first_run.stdout
    assert json.loads((release / "datapackage.json").read_text())["version"] == "1.0.0"
    site = re.search(r"site:\s+(\S+) \(instep serve", first_run.stdout)
    assert site, first_run.stdout
    assert (Path(site.group(1)) / "index.html").is_file()


def test_the_workspace_instance_holds_the_run_its_materialisations_and_check_results(first_run, demo_env):
    import dagster as dg

    from pipelines.definitions import build_defs

    assert first_run.returncode == 0, first_run.stderr[-3000:]
    settings = Settings(
        workspace=Path(demo_env["INSTEP_WORKSPACE"]), datapackages_dir=Path(demo_env["INSTEP_DATAPACKAGES"])
    )
    job = build_defs(settings).resolve_job_def("main_job")
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        (run,) = instance.get_runs(filters=dg.RunsFilter(job_name="main_job"))
        assert run.status == dg.DagsterRunStatus.SUCCESS
        for key in job.asset_layer.selected_asset_keys:
            event = instance.get_latest_materialization_event(key)
            assert event is not None and event.run_id == run.run_id, key
        checks = instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ).records
        evaluated = {record.event_log_entry.dagster_event.event_specific_data.check_name for record in checks}
        assert {"row_states_add_up", "observations_pass_suite", "rejected_rows_in_latest_batch"} <= evaluated
        # the demo rejects rows: the run says so where the UI lists runs
        assert run.tags["instep/review"].endswith("files: review")
    assert (settings.dagster_home / "dagster.yaml").read_bytes() == (REPO_ROOT / "dagster.yaml").read_bytes()


def test_preview_after_the_run_leaves_every_asset_materialised_and_publishes_nothing(first_run, demo_env):
    import dagster as dg

    from pipelines.definitions import build_defs

    assert first_run.returncode == 0, first_run.stderr[-3000:]
    settings = Settings(
        workspace=Path(demo_env["INSTEP_WORKSPACE"]), datapackages_dir=Path(demo_env["INSTEP_DATAPACKAGES"])
    )
    published = settings.datapackages_dir / settings.package_name
    before = sorted(p.name for p in published.iterdir())
    # Last night's preview, of other content (here: the published release): tonight's replaces it
    # instead of refusing to change a version, as a release would.
    last_night = settings.preview().datapackages_dir / settings.package_name / "preview"
    shutil.copytree(published / "1.0.0", last_night)

    preview = instep(demo_env, "preview")

    assert preview.returncode == 0, preview.stderr[-3000:]
    site = settings.preview().site_build_dir / "site"
    assert f"preview:     {site}" in preview.stdout
    assert (site / "index.html").is_file()
    descriptor = settings.preview().datapackages_dir / settings.package_name / "preview" / "datapackage.json"
    assert json.loads(descriptor.read_text(encoding="utf-8"))["version"] == "preview"
    assert sorted(p.name for p in published.iterdir()) == before
    # the preview's charts come from (and go to) the workspace's one chart cache, not a second one
    assert not (settings.preview().site_build_dir / "chart-cache").exists()
    assert any((settings.site_build_dir / "chart-cache").rglob("*.svg"))
    # what the README's main command leaves: the whole graph materialised in the workspace's instance
    every_asset = build_defs(settings).resolve_asset_graph().get_all_asset_keys()
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        never = [key for key in every_asset if instance.get_latest_materialization_event(key) is None]
    assert never == []


def test_release_of_the_same_version_and_data_changes_nothing(first_run, demo_env):
    release = Path(demo_env["INSTEP_DATAPACKAGES"]) / "instep-open-data" / "1.0.0"
    before = {p.name: p.read_bytes() for p in release.iterdir() if p.is_file()}
    again = instep(demo_env, "release", "--version", "1.0.0", "--release-date", "2026-01-31")
    assert again.returncode == 0, again.stderr[-3000:]
    assert {p.name: p.read_bytes() for p in release.iterdir() if p.is_file()} == before


def test_run_refuses_an_empty_workspace_when_told_not_to_write_the_demo(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    env = {**os.environ, "INSTEP_WORKSPACE": str(tmp_path / "empty")}
    result = instep(env, "run", "--no-demo")
    assert result.returncode == 2
    assert "no registry in" in result.stderr and "facilities.csv missing" in result.stderr


def test_a_failed_run_ends_with_the_error_that_stopped_the_step():
    import dagster as dg

    from pipelines.runs import _failure_message

    class ReleaseConflict(RuntimeError):
        pass

    @dg.asset
    def release_package() -> None:
        raise ReleaseConflict("release 1.0.0 is already published with other content: data/parks.csv")

    result = dg.materialize([release_package], raise_on_error=False)
    message = _failure_message("release_job", result)
    assert message.splitlines()[0] == "release_job failed; failed steps: release_package"
    assert message.splitlines()[-1] == (
        "release_package: ReleaseConflict: release 1.0.0 is already published with other content: "
        "data/parks.csv"
    )


@pytest.mark.parametrize("command", [("run",), ("release", "--version", "9.9.9")])
def test_a_second_run_is_refused_before_it_touches_the_workspace(tmp_path: Path, command: tuple[str, ...]):
    workspace = tmp_path / "busy"
    env = {**os.environ, "INSTEP_WORKSPACE": str(workspace)}
    # Another run holds the lock: a process of its own, as a second `instep run` would meet it.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from instep.settings import Settings\n"
            "from instep.warehouse import run_lock\n"
            "with run_lock(Settings.from_env()):\n"
            "    print('held', flush=True)\n"
            "    sys.stdin.read()\n",
        ],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = instep(env, *command)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    assert result.returncode == 5
    assert result.stderr.strip().splitlines()[-1].startswith("error: another run is working on the workspace")
    assert sorted(p.name for p in workspace.iterdir()) == ["run.lock"]  # no demo, warehouse or site


def test_two_runs_started_at_once_one_publishes_the_other_is_refused(first_runs: FirstRuns, demo_env):
    message = first_runs.refused.stderr
    assert (first_runs.ran.returncode, first_runs.refused.returncode) == (0, 5), message[-3000:]
    assert message.strip().splitlines()[-1].startswith("error: another run is working on the workspace")
    assert first_runs.refused.stdout == ""  # no summary: it did nothing
    release = Path(demo_env["INSTEP_DATAPACKAGES"]) / "instep-open-data" / "1.0.0"
    assert frictionless_validate(release).returncode == 0
    assert (Path(demo_env["INSTEP_WORKSPACE"]) / "site-build" / "site" / "index.html").is_file()
