"""`instep demo-data`: write a synthetic registry and inbox (see `instep.demo.generate_demo`)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("demo-data")
@click.option("--facilities", type=click.IntRange(min=1), default=78, show_default=True, help="Factories.")
@click.option(
    "--months", type=click.IntRange(1, 600), default=36, show_default=True, help="Months up to 2025-12."
)
@click.option("--seed", type=click.IntRange(min=0), default=42, show_default=True, help="Random seed.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for registry/, inbox/ and demo-manifest.json (default: the workspace).",
)
@click.option(
    "--overwrite", is_flag=True, help="Replace an existing inbox, registry and manifest in the folder."
)
def demo_data(facilities: int, months: int, seed: int, out_dir: Path | None, overwrite: bool) -> None:
    """Write a deterministic SYNTHETIC demo: four parks, FACILITIES factories, their shared plants, and
    a submission inbox with the faults a programme really receives (listed in demo-manifest.json).

    The same options always give byte-identical files.
    """
    from instep.demo.generate import MANIFEST_NAME, generate_demo
    from instep.settings import Settings

    target = out_dir if out_dir is not None else Settings.from_env().workspace
    try:
        manifest = generate_demo(target, facilities=facilities, months=months, seed=seed, overwrite=overwrite)
    except FileExistsError as error:
        raise click.ClickException(str(error)) from None
    whole_files = sum(1 for fault in manifest.planted_faults if fault.row_number is None)
    faulty_rows = len(manifest.planted_faults) - whole_files
    click.echo(f"Synthetic demo data (seed {seed}) written to {target}")
    click.echo(
        f"  registry: {target / 'registry'} (4 parks, {facilities} factories, "
        f"{len(manifest.shared_facilities)} shared facilities)"
    )
    click.echo(
        f"  inbox:    {target / 'inbox'} ({manifest.files:,} files, {manifest.rows:,} data rows, "
        f"{manifest.first_period} to {manifest.last_period})"
    )
    click.echo(
        f"  faults:   {faulty_rows:,} faulty rows and {whole_files} unreadable "
        f"files planted; {len(manifest.restatements):,} restated values; "
        f"{len(manifest.missing_months):,} facility-months missing"
    )
    click.echo(f"  manifest: {target / MANIFEST_NAME}")
