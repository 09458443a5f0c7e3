"""The `instep` console script: the commands of `instep.cli`, plus those that run the Dagster jobs of this
code location (`run`, `release`, `preview`) and its UI (`ui`), all on the workspace's one Dagster instance.

Exit status of `run`, `release` and `preview` (the README lists them too):

- 0: done
- 1: the run failed: a step raised an unexpected error or a blocking check failed (see the message)
- 2: no workspace, or no registry in it
- 3: the registry is invalid
- 4: the release version is already published with different content
- 5: another run is working on the workspace
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import click

from instep.cli import main
from instep.settings import REPO_ROOT, Settings

EXIT_RUN_FAILED = 1
EXIT_NO_WORKSPACE = 2
EXIT_CODES = {"invalid_registry": 3, "release_conflict": 4, "workspace_busy": 5}

__all__ = ["main"]


def fail(message: str, exit_code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(exit_code)


def _run_and_report(
    job: str, settings: Settings, version: str | None = None, release_date: str | None = None
) -> None:
    # Dagster and the asset graph (seconds to import) are imported only once a job is to run: `instep
    # check` stays quick, and a run refused (busy workspace, no registry) is refused at once.
    from instep.warehouse import WarehouseBusy
    from pipelines.runs import ExpectedRunError, RunFailed, execute_job, progress_shown, release_run_config

    try:
        with progress_shown():
            summary = execute_job(job, settings, release_run_config(version, release_date))
    except WarehouseBusy as error:
        fail(str(error), EXIT_CODES["workspace_busy"])
    except ExpectedRunError as error:
        fail(str(error), EXIT_CODES[error.kind])
    except RunFailed as error:
        fail(str(error), EXIT_RUN_FAILED)
    for line in summary.lines():
        click.echo(line)


def _no_workspace(settings: Settings) -> NoReturn:
    fail(
        f"no workspace in {settings.workspace} (no {settings.warehouse_path.name}): run `instep run` to "
        "start one (with the demo data when it has no registry), or set "
        "INSTEP_WORKSPACE to the steward's workspace",
        EXIT_NO_WORKSPACE,
    )


@main.command()
@click.option("--version", "version", help="Release version to publish (default: see the release asset).")
@click.option("--release-date", help="Release date YYYY-MM-DD (default: SOURCE_DATE_EPOCH or today).")
@click.option(
    "--no-demo",
    is_flag=True,
    help="Do not write the synthetic demo registry and inbox into an empty workspace.",
)
def run(version: str | None, release_date: str | None, no_demo: bool) -> None:
    """Run the whole chain on the workspace: ingest, validate, indicators, scorecards, release, site.

    In a workspace without a registry, the bundled synthetic demo data is written first (unless
    --no-demo), so that one command shows the whole pipeline. Exit status: see the README.
    """
    from instep.warehouse import WarehouseBusy, run_lock

    settings = Settings.from_env()
    if no_demo and not settings.workspace.is_dir():
        _no_workspace(settings)
    try:
        with run_lock(settings):
            _run(settings, version, release_date, no_demo)
    except WarehouseBusy as error:
        fail(str(error), EXIT_CODES["workspace_busy"])


def _run(settings: Settings, version: str | None, release_date: str | None, no_demo: bool) -> None:
    """`instep run` under the run lock: the demo data is written only if no other run is working."""
    if not (settings.registry_dir / "facilities.csv").exists():
        if no_demo:
            fail(f"no registry in {settings.registry_dir} (facilities.csv missing)", EXIT_NO_WORKSPACE)
        from instep.demo.generate import generate_demo

        manifest = generate_demo(settings.workspace)
        click.echo(
            f"Workspace {settings.workspace} was empty: wrote the SYNTHETIC demo registry and inbox "
            f"({manifest.files:,} files, {manifest.rows:,} rows)"
        )
    _run_and_report("main_job", settings, version, release_date)


def _run_on_the_warehouse(job: str, version: str | None = None, release_date: str | None = None) -> None:
    """Run `job` on the workspace's existing warehouse under the run lock (`release`, `preview`)."""
    from instep.warehouse import WarehouseBusy, run_lock

    settings = Settings.from_env()
    if not settings.workspace.is_dir():
        _no_workspace(settings)
    try:
        with run_lock(settings):
            if not settings.warehouse_path.is_file():
                _no_workspace(settings)
            _run_and_report(job, settings, version, release_date)
    except WarehouseBusy as error:
        fail(str(error), EXIT_CODES["workspace_busy"])


@main.command()
@click.option("--version", "version", required=True, help="Version of the release, e.g. 2026.1.")
@click.option("--release-date", help="Release date YYYY-MM-DD (default: SOURCE_DATE_EPOCH or today).")
def release(version: str, release_date: str | None) -> None:
    """Cut release VERSION from the warehouse as it is (indicators, scorecards, package, site).

    A published version is immutable: publishing it again with different content fails (exit status 4).
    """
    _run_on_the_warehouse("release_job", version, release_date)


@main.command()
def preview() -> None:
    """Preview the next release and its site in the workspace, without publishing anything.

    Runs what the nightly schedule runs (indicators, scorecards, disclosure and a release and site
    marked "preview" under <workspace>/preview/), so a steward sees a release before cutting it.
    """
    _run_on_the_warehouse("nightly_preview_job")


@main.command()
@click.option("--port", type=click.IntRange(1, 65535), default=3000, show_default=True)
def ui(port: int) -> None:
    """Start the Dagster UI (`dagster dev`) on http://127.0.0.1:PORT/ with the workspace's instance.

    It shows the runs of `instep run` and `instep release`, and its daemon runs the inbox sensor and the
    nightly schedule. Ctrl+C stops it.
    """
    from pipelines.instance import prepare_dagster_home

    settings = Settings.from_env()
    if not settings.workspace.is_dir():
        _no_workspace(settings)
    home = prepare_dagster_home(settings)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "INSTEP_WORKSPACE": str(settings.workspace),
        "INSTEP_DATAPACKAGES": str(settings.datapackages_dir),
    }
    # From the repository, `dagster dev` loads the code location pyproject.toml names (module and name).
    command = [sys.executable, "-m", "dagster", "dev", "--host", "127.0.0.1", "--port", str(port)]
    click.echo(f"Dagster UI on http://127.0.0.1:{port}/ (instance {home}; Ctrl+C to stop)", err=True)
    sys.stderr.flush()
    # This process becomes `dagster dev`: a signal to its PID stops its webserver, daemon and code server.
    os.chdir(REPO_ROOT)
    os.execve(sys.executable, command, env)
