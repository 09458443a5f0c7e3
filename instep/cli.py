"""The `instep` commands that need no Dagster: check, serve, doctor, demo-data.

The `instep` console script is `pipelines.cli:main`, which adds the commands that run the Dagster jobs
(run, release, ui) to this group; `python -m instep` offers these alone (what a factory's checker needs).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from instep.demo.command import demo_data
from instep.settings import Settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="instep-open-data")
def main() -> None:
    """INSTEP Open Data: validate submissions, build indicators and publish open releases."""


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--registry",
    "registry_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder with parks.csv and facilities.csv (default: the workspace registry).",
)
@click.option("--quiet", is_flag=True, help="Print only the verdict line per file.")
def check(files: tuple[Path, ...], registry_dir: Path | None, quiet: bool) -> None:
    """Check submission FILES before sending them: the pipeline's verdict, without ingesting.

    Exit status: 0 every file valid, 1 some rows invalid (report printed), 2 a file unreadable.
    """
    from instep.check import accepted_history, check_files
    from instep.readers import display_name
    from instep.registry import RegistryError, read_registry
    from instep.report import render_report

    settings = Settings.from_env()
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        click.echo(f"error: no such file: {', '.join(missing)}", err=True)
        sys.exit(2)
    try:
        registry = read_registry(registry_dir or settings.registry_dir)
    except RegistryError as error:
        click.echo(f"error: cannot read the registry: {error}", err=True)
        sys.exit(2)
    not_compared = accepted_history(settings.warehouse_path)
    warehouse = None if not_compared else settings.warehouse_path
    verdicts = check_files(list(files), registry, settings.as_of, warehouse)
    if not_compared and not quiet:
        # without the accepted values, a thousandfold change from the facility's history goes unseen
        click.echo(
            f"note: {not_compared}: values were not compared with the facilities' history "
            "(implausible_change) nor with wholes accepted earlier; the pipeline will compare them.\n"
        )
    for verdict in verdicts:
        if quiet:
            status = {0: "valid", 1: "invalid", 2: "unreadable"}[verdict.exit_code]
            click.echo(f"{display_name(verdict.file_name)}: {status}")
        else:
            click.echo(render_report(verdict))
    sys.exit(max((v.exit_code for v in verdicts), default=0))


@main.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--site-dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Built site folder (default: the workspace's built site).",
)
def serve(port: int, site_dir: Path | None) -> None:
    """Serve the built transparency site on http://127.0.0.1:PORT/ (this machine only)."""
    from instep.serve import make_server

    if site_dir is None:
        from instep.site.build import built_site_dir

        site_dir = built_site_dir(Settings.from_env())
    folder = site_dir
    try:
        server = make_server(folder, port, verbose=True)
    except (FileNotFoundError, OSError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    host, bound = server.server_address[:2]
    click.echo(f"Serving {folder} on http://{host}:{bound}/ (Ctrl+C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        server.server_close()


@main.command()
def doctor() -> None:
    """Verify the workspace's archive: every recorded submission file present with its SHA-256.

    Exit status: 0 all intact, 1 a copy missing or altered (each is listed).
    """
    from instep.ingest import archive_problems
    from instep.readers import display_name
    from instep.warehouse import connect

    settings = Settings.from_env()
    if not settings.warehouse_path.exists():
        click.echo(f"error: no warehouse in {settings.workspace}; nothing has been ingested", err=True)
        sys.exit(2)
    with connect(settings, read_only=True) as con:
        problems = archive_problems(con, settings.archive_dir, verify_hashes=True)
        files = con.execute("SELECT count(*) FROM submission_files").fetchall()[0][0]
    for problem in problems:
        click.echo(
            f"error: {problem.submission_id} ({display_name(problem.original_name)}, "
            f"archive/{problem.archived_path}): {problem.problem}",
            err=True,
        )
    click.echo(f"archive: {files - len(problems):,} of {files:,} submission files intact")
    sys.exit(1 if problems else 0)


main.add_command(demo_data)
