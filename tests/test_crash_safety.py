"""Crash safety and concurrency of ingestion, with real processes.

A child process ingests a demo inbox and is killed with SIGKILL (at an injected point, or after a random
delay); the next run must recover: no stale lock, row states adding up per file, observations equal to
the accepted rows, the archive intact, and exactly the ledger of an uninterrupted run. Two runs started
at once must not corrupt the warehouse: the second waits for the lock or stops with a clear message.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from instep.demo import generate_demo
from instep.settings import REPO_ROOT, Settings
from instep.validate import row_state_counts
from instep.warehouse import connect, writer_lock
from tests.conftest import AS_OF
from tests.ingest_child import EXIT_BUSY, Child
from tests.release_helpers import RELEASE_DATE, all_published_bytes, prepare

KILL_LOOPS = 20


@pytest.fixture(scope="module")
def demo_inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crash-demo")
    generate_demo(root, facilities=24, months=12, seed=7)
    return root


def fresh_workspace(demo: Path, target: Path) -> Settings:
    shutil.copytree(demo / "registry", target / "registry")
    shutil.copytree(demo / "inbox", target / "inbox")
    return Settings(workspace=target, datapackages_dir=target / "datapackages", as_of=AS_OF)


def child(settings: Settings, *args: str) -> Child:
    return Child([str(settings.workspace), "--as-of", AS_OF.isoformat(), *args], settings.workspace.parent)


def run_child(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    process = child(settings, *args)
    stdout, stderr = process.communicate(timeout=600)
    return subprocess.CompletedProcess(args, process.returncode, stdout, stderr)


def snapshot(settings: Settings) -> dict[str, list[tuple]]:
    """The ledger in a form that does not depend on when or how often a run was started."""
    with connect(settings, read_only=True) as con:
        return {
            "files": con.execute(
                "SELECT file_hash, original_name, archived_path, format, file_seq, status, rule, rows_read "
                "FROM submission_files ORDER BY file_seq"
            ).fetchall(),
            "rows": con.execute(
                "SELECT submission_id, row_number, state, rule, message, superseded_by FROM submission_rows "
                "ORDER BY submission_id, row_number"
            ).fetchall(),
            "issues": con.execute(
                'SELECT submission_id, row_number, "column", rule, message FROM row_issues ORDER BY ALL'
            ).fetchall(),
            "observations": con.execute(
                "SELECT * FROM observations ORDER BY submission_id, row_number"
            ).fetchall(),
            "staged": con.execute("SELECT count(*) FROM staged_rows").fetchall(),
        }


@pytest.fixture(scope="module")
def reference(demo_inbox: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple]]:
    """The ledger after one uninterrupted run."""
    settings = fresh_workspace(demo_inbox, tmp_path_factory.mktemp("reference"))
    result = run_child(settings)
    assert result.returncode == 0, result.stderr
    state = snapshot(settings)
    assert state["rows"] and state["staged"] == [(0,)]
    return state


def assert_lock_is_free(settings: Settings) -> None:
    # The OS released the dead process's lock; a stale lock file must not block the next run.
    with writer_lock(settings, timeout_s=1.0):
        pass


def assert_consistent(settings: Settings) -> None:
    with connect(settings, read_only=True) as con:
        per_file = row_state_counts(con).fetchall()
        accepted = con.execute("SELECT count(*) FROM submission_rows WHERE state = 'accepted'").fetchall()
        observations = con.execute("SELECT count(*) FROM observations").fetchall()
        duplicates = con.execute(
            "SELECT count(*) FROM (SELECT submission_id, row_number FROM submission_rows GROUP BY ALL "
            "HAVING count(*) > 1)"
        ).fetchall()
        archived = con.execute("SELECT file_hash, archived_path FROM submission_files").fetchall()
    for _, name, _, rows_read, n_accepted, n_rejected, n_superseded in per_file:
        assert n_accepted + n_rejected + n_superseded == rows_read, name
    assert accepted == observations
    assert duplicates == [(0,)]
    for file_hash, archived_path in archived:
        data = (settings.archive_dir / archived_path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == file_hash, archived_path
    # Every archived file was renamed into place: no partial copy is left behind.
    assert sorted(p.name for p in settings.archive_dir.iterdir()) == sorted(a for _, a in archived)


def recover_and_compare(settings: Settings, reference: dict[str, list[tuple]]) -> None:
    assert_lock_is_free(settings)
    result = run_child(settings)
    assert result.returncode == 0, result.stderr
    assert_consistent(settings)
    assert snapshot(settings) == reference


@pytest.mark.parametrize("point", ["archive", pytest.param("staged", marks=pytest.mark.slow), "settling"])
def test_killed_at_an_injected_point_the_next_run_recovers(
    point: str, demo_inbox: Path, reference: dict, tmp_path: Path
):
    settings = fresh_workspace(demo_inbox, tmp_path / "ws")
    killed = run_child(settings, "--kill-at", point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    recover_and_compare(settings, reference)


@pytest.fixture(scope="module")
def ingest_seconds(demo_inbox: Path, tmp_path_factory: pytest.TempPathFactory) -> float:
    """How long an uninterrupted run holds the lock: the random kills land within that time."""
    settings = fresh_workspace(demo_inbox, tmp_path_factory.mktemp("timed") / "ws")
    process = child(settings)
    assert process.first_line() == "lock taken"
    started = time.monotonic()
    process.communicate()
    assert process.returncode == 0
    return time.monotonic() - started


def kill_after_random_delay(settings: Settings, rng: random.Random, seconds: float) -> float:
    process = child(settings)
    # Wait until the child holds the lock, so the kill lands during ingestion rather than before it.
    assert process.first_line() == "lock taken"
    delay = rng.uniform(0.0, seconds)
    time.sleep(delay)
    process.kill()
    process.communicate(timeout=600)
    return delay


@pytest.mark.slow
def test_killed_after_a_random_delay_the_next_run_recovers(
    demo_inbox: Path, reference: dict, ingest_seconds: float, tmp_path: Path
):
    settings = fresh_workspace(demo_inbox, tmp_path / "ws")
    kill_after_random_delay(settings, random.Random(20261125), ingest_seconds)
    recover_and_compare(settings, reference)


@pytest.mark.slow
@pytest.mark.parametrize("attempt", range(KILL_LOOPS))
def test_sigkill_loop(attempt: int, demo_inbox: Path, reference: dict, ingest_seconds: float, tmp_path: Path):
    """Twenty kills at random moments (and each injected point in turn), each followed by recovery."""
    settings = fresh_workspace(demo_inbox, tmp_path / "ws")
    rng = random.Random(attempt)
    if attempt % 4 == 3:
        point = ("archive", "staged", "settling")[(attempt // 4) % 3]
        assert run_child(settings, "--kill-at", point).returncode == -signal.SIGKILL
    else:
        kill_after_random_delay(settings, rng, ingest_seconds)
    # A second kill during the recovery run itself, then the final recovery.
    if attempt % 2 == 1:
        kill_after_random_delay(settings, rng, ingest_seconds)
    recover_and_compare(settings, reference)


def test_two_runs_started_at_once_leave_the_state_of_one_run(
    demo_inbox: Path, reference: dict, tmp_path: Path
):
    settings = fresh_workspace(demo_inbox, tmp_path / "ws")
    first, second = child(settings), child(settings)
    outcomes = [(*process.communicate(timeout=600), process.returncode) for process in (first, second)]
    for _stdout, stderr, code in outcomes:
        # Each either ran (the later one after waiting for the lock) or stopped with the clear message.
        assert code in (0, EXIT_BUSY), stderr
        if code == EXIT_BUSY:
            assert "another run is writing" in stderr
    assert any(code == 0 for _, _, code in outcomes)
    assert_consistent(settings)
    assert snapshot(settings) == reference


def test_a_second_run_stops_with_a_clear_message_while_the_first_writes(
    demo_inbox: Path, reference: dict, tmp_path: Path
):
    settings = fresh_workspace(demo_inbox, tmp_path / "ws")
    release = tmp_path / "release-the-lock"
    first = child(settings, "--hold-lock-until", str(release))
    assert first.first_line() == "lock taken"
    second = run_child(settings, "--lock-timeout", "1")
    release.touch()
    first.communicate(timeout=600)
    assert first.returncode == 0
    assert second.returncode == EXIT_BUSY
    assert "another run is writing to warehouse.duckdb" in second.stderr
    assert "wait for it to finish and try again" in second.stderr
    assert snapshot(settings) == reference


def publish_in_child(settings: Settings, version: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.release_child",
            str(settings.workspace),
            str(settings.datapackages_dir),
            "--version",
            version,
            "--release-date",
            RELEASE_DATE,
            *args,
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )


def visible_files(package: Path) -> dict[str, bytes]:
    """What a user of the package folder sees: everything but hidden files (lock, staging folders)."""
    return {name: data for name, data in all_published_bytes(package).items() if not name.startswith(".")}


@pytest.mark.parametrize("insert", [1, pytest.param(4, marks=pytest.mark.slow)])
def test_killed_while_writing_the_release_database_the_release_is_published_whole_later(
    insert: int, workspace: Settings, tmp_path: Path
):
    prepare(workspace)
    assert publish_in_child(workspace, "1.0.0").returncode == 0
    package = workspace.datapackages_dir / workspace.package_name
    published_before = visible_files(package)
    # The reference: the same folder as it was, to publish 1.1.0 into without an interruption.
    reference = tmp_path / "reference-datapackages"
    shutil.copytree(workspace.datapackages_dir, reference)

    killed = publish_in_child(workspace, "1.1.0", "--kill-at-insert", str(insert))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # Nothing of 1.1.0 is visible: the index, LATEST and the published release are as they were.
    assert visible_files(package) == published_before
    assert sorted(p.name for p in package.iterdir() if p.is_dir() and not p.name.startswith(".")) == ["1.0.0"]

    # The next publication gets the lock and writes the release whole, identical to an uninterrupted one.
    assert_lock_is_free(workspace)
    again = publish_in_child(workspace, "1.1.0")
    assert again.returncode == 0, again.stderr
    uninterrupted = workspace.with_(datapackages_dir=reference)
    assert publish_in_child(uninterrupted, "1.1.0").returncode == 0
    assert visible_files(package) == visible_files(reference / workspace.package_name)
