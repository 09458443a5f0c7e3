"""Shared set-up of the release tests: a small workspace with registry and reference pub_* tables."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

from instep.ingest import stage_new_files
from instep.metadata.resources import FACILITIES, PARKS, REFERENCE_RESOURCES
from instep.registry import load_registry, read_registry
from instep.release.pub_tables import build_reference_pub_tables
from instep.settings import REPO_ROOT, Settings
from instep.validate import settle_staged_rows
from instep.warehouse import connect

# The registry and reference resources: published before (and without) the computed tables.
BASE_RESOURCES = (PARKS, FACILITIES, *REFERENCE_RESOURCES)
RELEASE_DATE = "2026-11-25"


def prepare(settings: Settings) -> None:
    """Registry and any inbox files into the warehouse, then the registry/reference pub_* tables."""
    with connect(settings) as con:
        load_registry(con, read_registry(settings.registry_dir))
        stage_new_files(con, settings.inbox_dir, settings.archive_dir)
        settle_staged_rows(con, settings.as_of)
        build_reference_pub_tables(con)


def frictionless_validate(release: Path) -> subprocess.CompletedProcess[str]:
    """`frictionless validate datapackage.json` in a release folder, as a user runs it."""
    return subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "frictionless"), "validate", "datapackage.json"],
        cwd=release,
        capture_output=True,
        text=True,
        timeout=600,
    )


def release_dir(settings: Settings, version: str) -> Path:
    return settings.datapackages_dir / settings.package_name / version


def all_published_bytes(directory: Path) -> dict[str, bytes]:
    """Every file under a package folder, and every member of every zip, by name."""
    out: dict[str, bytes] = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        out[path.relative_to(directory).as_posix()] = path.read_bytes()
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    out[f"{path.name}!{member}"] = archive.read(member)
    return out
