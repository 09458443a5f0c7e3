"""The list of a package's releases (`releases.json`) and the pointers to the latest one.

`LATEST` holds the latest version alone; `latest.json` is the stable address tools follow: the latest
release's entry of releases.json with the package name, every path relative to the package folder
(`datapackages/<package>/`, mirrored as `downloads/` on the site). All are rewritten whole through a
temporary file and an atomic rename, so a reader never sees half of one. Releases themselves never
change; only these files do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from instep.files import write_text_atomically

INDEX_NAME = "releases.json"
LATEST_NAME = "LATEST"
LATEST_JSON_NAME = "latest.json"


def read_index(package_dir: Path) -> list[dict[str, Any]]:
    path = package_dir / INDEX_NAME
    if not path.exists():
        return []
    return list(json.loads(path.read_text(encoding="utf-8"))["releases"])


def write_index(package_dir: Path, package_name: str, releases: list[dict[str, Any]]) -> None:
    document = {"package": package_name, "releases": releases}
    write_text_atomically(package_dir / INDEX_NAME, json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def add_release(package_dir: Path, package_name: str, entry: dict[str, Any]) -> None:
    """Record a release (replacing an entry of the same version) and point LATEST and latest.json at it."""
    releases = [r for r in read_index(package_dir) if r["version"] != entry["version"]]
    releases.append(entry)
    write_index(package_dir, package_name, releases)
    latest = {"package": package_name, **entry}
    latest_text = json.dumps(latest, indent=2, ensure_ascii=False) + "\n"
    write_text_atomically(package_dir / LATEST_JSON_NAME, latest_text)
    write_text_atomically(package_dir / LATEST_NAME, entry["version"] + "\n")


def latest_version(package_dir: Path) -> str | None:
    path = package_dir / LATEST_NAME
    if not path.exists():
        return None
    return path.read_text(encoding="utf-8").strip() or None


def read_latest(package_dir: Path) -> dict[str, Any] | None:
    """The latest release's entry as latest.json gives it, or None before the first release."""
    path = package_dir / LATEST_JSON_NAME
    if not path.exists():
        return None
    return dict(json.loads(path.read_text(encoding="utf-8")))
