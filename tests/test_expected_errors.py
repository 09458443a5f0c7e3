"""Expected errors end with one line (what happened, what to do) and their own exit status, never a
traceback: a missing workspace, an invalid registry, a release version already published with other
content, the workspace held by another run. In the UI the same errors are a step's readable failure."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from assets.common import ERROR_KIND
from instep.settings import Settings
from pipelines.cli import EXIT_CODES, EXIT_NO_WORKSPACE
from pipelines.definitions import build_defs
from tests.cli_helpers import invoke_instep
from tests.conftest import AS_OF, write_registry
from tests.shared_demo import BuiltSite, copy_demo


def instep(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "INSTEP_WORKSPACE": str(workspace),
        "INSTEP_DATAPACKAGES": str(workspace.parent / "datapackages"),
        "INSTEP_AS_OF": AS_OF.isoformat(),
    }
    return invoke_instep(args, env)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stdout + result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr[-3000:]
    assert result.stderr.rstrip("\n").splitlines()[-1] == errors[0]  # the last thing said
    return errors[0]


def broken_registry(workspace: Path) -> None:
    write_registry(workspace / "registry")
    facilities = workspace / "registry" / "facilities.csv"
    facilities.write_text(facilities.read_text().replace(",public,2021-01-01,", ",public,2021-13-01,"))


def test_a_missing_workspace(tmp_path: Path):
    for command in (("release", "--version", "1.0.0"), ("run", "--no-demo"), ("ui",)):
        result = instep(tmp_path / "nowhere", *command)
        assert result.returncode == EXIT_NO_WORKSPACE == 2, command
        line = one_line_error(result)
        assert f"no workspace in {tmp_path / 'nowhere'}" in line and "run `instep run`" in line
    assert not (tmp_path / "nowhere").exists()


def test_an_invalid_registry(tmp_path: Path):
    broken_registry(tmp_path / "ws")
    result = instep(tmp_path / "ws", "run", "--no-demo")
    assert result.returncode == EXIT_CODES["invalid_registry"] == 3
    assert one_line_error(result) == (
        "error: the registry is invalid: facilities.csv line 5: active_from '2021-13-01' is not a date "
        "YYYY-MM-DD; correct registry/parks.csv or facilities.csv and run again"
    )


def test_an_invalid_registry_is_a_readable_failure_in_the_ui(tmp_path: Path):
    settings = Settings(workspace=tmp_path / "ws", datapackages_dir=tmp_path / "dp", as_of=AS_OF)
    broken_registry(settings.workspace)
    result = build_defs(settings).resolve_job_def("ingest_job").execute_in_process(raise_on_error=False)
    (failure,) = [event.step_failure_data for event in result.all_events if event.is_step_failure]
    assert failure.user_failure_data.description.startswith("the registry is invalid: facilities.csv")
    assert failure.user_failure_data.metadata[ERROR_KIND].value == "invalid_registry"
    assert failure.error.cause is None  # the UI shows the description, not a chain of wrapped errors


def test_a_release_version_published_with_other_content(demo_site: BuiltSite, tmp_path: Path):
    # the run's demo, released as 1.0.0; a restatement arrives and is run as the same version again
    settings = copy_demo(demo_site, tmp_path)
    workspace = settings.workspace
    with (demo_site.release_dir / "data" / "facility_monthly.csv").open(encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["electricity_grid_kwh"])
    (workspace / "inbox" / "restatement.csv").write_text(
        "facility_id,period,metric,value,unit\n"
        f"{row['facility_id']},{row['period']},energy.electricity.grid,123456,kWh\n",
        encoding="utf-8",
    )
    result = instep(workspace, "run", "--version", "1.0.0", "--release-date", "2026-11-25")
    assert result.returncode == EXIT_CODES["release_conflict"] == 4
    line = one_line_error(result)
    assert line.startswith(
        "error: release instep-open-data 1.0.0 is already published with different content"
    )
    assert line.endswith("publish the new data under a new version")


def test_the_workspace_held_by_another_run(tmp_path: Path):
    workspace = tmp_path / "busy"
    write_registry(workspace / "registry")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from instep.settings import Settings\n"
            "from instep.warehouse import run_lock\n"
            "with run_lock(Settings.from_env()):\n"
            "    print('held', flush=True)\n"
            "    sys.stdin.read()\n",
        ],
        env={**os.environ, "INSTEP_WORKSPACE": str(workspace)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        results = [instep(workspace, "run"), instep(workspace, "release", "--version", "9.9.9")]
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    for result in results:
        assert result.returncode == EXIT_CODES["workspace_busy"] == 5
        assert one_line_error(result).startswith("error: another run is working on the workspace")
