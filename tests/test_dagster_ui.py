"""`instep ui` starts `dagster dev` on 127.0.0.1 with the workspace's instance; the code location loads and
its GraphQL API shows every stage and the checks."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from assets import keys
from instep.settings import REPO_ROOT, Settings
from pipelines.jobs import STAGES
from tests.conftest import AS_OF, write_registry

STARTUP_SECONDS = 240
# How often the test asks the UI whether the code location has loaded.
POLL_SECONDS = 0.25

WORKSPACE_QUERY = """
{ workspaceOrError { __typename ... on Workspace { locationEntries {
    name
    locationOrLoadError { __typename ... on PythonError { message stack } }
} } } }
"""

ASSETS_QUERY = """
{ assetNodes {
    assetKey { path }
    groupName
    description
    assetChecksOrError { __typename ... on AssetChecks { checks { name blocking } } }
} }
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def graphql(base: str, query: str) -> dict:
    request = urllib.request.Request(
        base + "graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        payload = json.load(response)
    assert "errors" not in payload, payload.get("errors")
    return payload["data"]


def wait_until_loaded(base: str, process: subprocess.Popen, log: Path) -> dict:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"dagster dev exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            data = graphql(base, WORKSPACE_QUERY)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(POLL_SECONDS)
            continue
        entries = data["workspaceOrError"].get("locationEntries") or []
        if entries and all(e["locationOrLoadError"] is not None for e in entries):
            return data
        time.sleep(POLL_SECONDS)
    pytest.fail(
        f"dagster dev did not load the code location in {STARTUP_SECONDS} s:\n{log.read_text()[-4000:]}"
    )


@pytest.fixture(scope="module")
def ui_workspace(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A workspace with the small registry and an empty inbox, for the one `dagster dev` of this module."""
    root = tmp_path_factory.mktemp("ui")
    settings = Settings(workspace=root / "ws", datapackages_dir=root / "datapackages", as_of=AS_OF)
    write_registry(settings.registry_dir)
    settings.inbox_dir.mkdir(parents=True)
    return settings


@pytest.fixture(scope="module")
def dagster_dev(ui_workspace: Settings) -> Iterator[str]:
    """One `instep ui` for the module's tests, which only read from it (it takes seconds to load)."""
    workspace = ui_workspace
    tmp_path = workspace.workspace.parent
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "DAGSTER_HOME"} | {
        "INSTEP_WORKSPACE": str(workspace.workspace),
        "INSTEP_DATAPACKAGES": str(workspace.datapackages_dir),
    }
    log = tmp_path / "dagster-dev.log"
    with log.open("w") as out:
        # `instep ui` becomes `dagster dev` (same PID), so the signal below reaches it.
        process = subprocess.Popen(
            [sys.executable, "-m", "pipelines", "ui", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}/"
    try:
        wait_until_loaded(base, process, log)
        yield base
    finally:
        # dagster dev stops its webserver, daemon and code server on SIGINT/SIGTERM.
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def test_instep_ui_serves_on_loopback_with_the_workspace_instance(dagster_dev: str, ui_workspace: Settings):
    workspace = ui_workspace
    assert dagster_dev.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(dagster_dev + "server_info", timeout=30) as response:
        assert response.status == 200
    instance = graphql(dagster_dev, "{ instance { info } }")["instance"]["info"]
    assert str(workspace.dagster_home) in instance
    assert (workspace.dagster_home / "dagster.yaml").read_bytes() == (REPO_ROOT / "dagster.yaml").read_bytes()


def test_dagster_dev_loads_every_stage_with_its_checks(dagster_dev: str):
    workspace = graphql(dagster_dev, WORKSPACE_QUERY)["workspaceOrError"]
    assert workspace["__typename"] == "Workspace"
    (entry,) = workspace["locationEntries"]
    assert entry["name"] == "instep"
    assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation", entry

    nodes = graphql(dagster_dev, ASSETS_QUERY)["assetNodes"]
    groups = {node["groupName"] for node in nodes}
    assert set(STAGES) <= groups, f"stages missing from the asset graph: {set(STAGES) - groups}"
    by_name = {"/".join(node["assetKey"]["path"]): node for node in nodes}
    for key in (keys.SUBMISSION_FILES, keys.OBSERVATIONS, keys.RELEASE_PACKAGE, keys.TRANSPARENCY_SITE):
        name = key.to_user_string()
        assert name in by_name, f"{name} missing from the asset graph"
        assert by_name[name]["description"], f"{name} has no description"

    checks = {
        (name, check["name"]): check["blocking"]
        for name, node in by_name.items()
        if node["assetChecksOrError"]["__typename"] == "AssetChecks"
        for check in node["assetChecksOrError"]["checks"]
    }
    assert checks[(keys.OBSERVATIONS.to_user_string(), "observations_pass_suite")] is True
    assert checks[(keys.SUBMISSION_ROWS.to_user_string(), "row_states_add_up")] is True
    assert checks[(keys.SUBMISSION_ROWS.to_user_string(), "rejected_rows_in_latest_batch")] is False
