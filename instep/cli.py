"""The `instep` command line: the same code the Dagster assets call, for people without the UI."""

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
    from instep.check import check_files
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
    verdicts = check_files(list(files), registry, settings.as_of)
    for verdict in verdicts:
        if quiet:
            status = {0: "valid", 1: "invalid", 2: "unreadable"}[verdict.exit_code]
            click.echo(f"{verdict.file_name}: {status}")
        else:
            click.echo(render_report(verdict))
    sys.exit(max((v.exit_code for v in verdicts), default=0))


main.add_command(demo_data)
