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
    "registry_path",
    type=click.Path(path_type=Path),
    help=(
        "The programme's facilities.csv (or a registry folder with parks.csv and facilities.csv), to check "
        "facility ids too. Default: the workspace's registry if there is one; otherwise ids are not checked."
    ),
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown", "html"]),
    default="text",
    show_default=True,
    help="Report format: plain text for the terminal, Markdown, or an HTML page.",
)
@click.option("--quiet", is_flag=True, help="Print only the verdict line per file.")
def check(files: tuple[Path, ...], registry_path: Path | None, output_format: str, quiet: bool) -> None:
    """Check submission FILES before sending them: the pipeline's verdict, without ingesting.

    Exit status: 0 every file valid, 1 some rows invalid (report printed), 2 a file unreadable (or a
    file or the registry missing).
    """
    from instep.check import NO_REGISTRY_DETAIL, accepted_history, check_files, read_check_registry
    from instep.readers import display_name
    from instep.registry import RegistryError
    from instep.report import html_page, render_report, render_report_html, render_report_text

    settings = Settings.from_env()
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        click.echo(f"error: no such file: {', '.join(missing)}", err=True)
        sys.exit(2)
    if registry_path is None and (settings.registry_dir / "facilities.csv").exists():
        registry_path = settings.registry_dir
    registry = None
    if registry_path is not None:
        try:
            registry = read_check_registry(registry_path)
        except RegistryError as error:
            click.echo(f"error: cannot read the registry: {error}", err=True)
            sys.exit(2)
    not_compared = accepted_history(settings.warehouse_path)
    warehouse = None if not_compared else settings.warehouse_path
    verdicts = check_files(list(files), registry, settings.as_of, warehouse)
    notes = []
    if registry is None:
        notes.append(f"facility ids not checked: no registry; {NO_REGISTRY_DETAIL}.")
    if not_compared:
        # without the accepted values, a thousandfold change from the facility's history goes unseen
        notes.append(
            f"{not_compared}: values were not compared with the facilities' history "
            "(implausible_change) nor with wholes accepted earlier; the pipeline will compare them."
        )
    if quiet:
        for verdict in verdicts:
            status = {0: "valid", 1: "invalid", 2: "unreadable"}[verdict.exit_code]
            aside = f" ({verdict.not_checked})" if verdict.not_checked else ""
            click.echo(f"{display_name(verdict.file_name)}: {status}{aside}")
    elif output_format == "html":
        import html

        body = "".join(f"<p>note: {html.escape(note)}</p>\n" for note in notes)
        body += "".join(render_report_html(verdict) for verdict in verdicts)
        click.echo(html_page("instep check", body), nl=False)
    else:
        render = render_report if output_format == "markdown" else render_report_text
        for note in notes:
            click.echo(f"note: {note}\n")
        for verdict in verdicts:
            click.echo(render(verdict))
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


@main.command()
@click.option("--rotate", is_flag=True, help="Replace the current key; it is kept under keys/retired/.")
def keygen(rotate: bool) -> None:
    """Make the workspace's Ed25519 release signing key (keys/ in the workspace).

    The first release of a workspace without a key makes one; use this to make it beforehand, or
    --rotate to replace it. The private key never leaves the workspace.
    """
    from instep.release.signing import SigningError, fingerprint, generate_key, public_key_path

    settings = Settings.from_env()
    try:
        path = generate_key(settings, rotate=rotate)
    except SigningError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    public = public_key_path(settings)
    click.echo(f"signing key: {path} (keep it private, back it up)")
    click.echo(f"public key:  {public} ({fingerprint(public.read_bytes())})")


@main.command()
@click.argument("release_dir", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option(
    "--key",
    "key_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="PEM public key you trust (e.g. from the site); default: the release's own signing-key.pub.",
)
def verify(release_dir: Path, key_file: Path | None) -> None:
    """Check a release folder: signature, every checksum, the descriptor's hashes and the zip.

    Exit status: 0 intact, 1 a file differs (each is named).
    """
    from instep.release.verify import verify_release

    result = verify_release(release_dir, key_file.read_bytes() if key_file else None)
    for problem in result.problems:
        click.echo(f"error: {problem}", err=True)
    if not result.ok:
        click.echo(f"{release_dir}: NOT verified ({len(result.problems)} problems)")
        sys.exit(1)
    click.echo(
        f"{release_dir}: verified {result.files_checked} files; signature by {result.key_fingerprint} "
        f"({result.key_source})"
    )


main.add_command(demo_data)
