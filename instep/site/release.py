"""Reading published releases: the descriptor, the tables as text, and the list of all versions.

Tables are read as strings, exactly as written in the CSV files, so that every number a page shows can
be traced to the cell it came from; `number()` converts one cell where arithmetic or formatting needs it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd


def number(cell: object) -> float | None:
    """A CSV cell as a float, None when empty."""
    if cell is None:
        return None
    if isinstance(cell, int | float):
        return None if pd.isna(cell) else float(cell)
    text = str(cell).strip()
    return float(text) if text else None


@dataclass
class Release:
    """One published version: `datapackages/<package>/<version>/`."""

    path: Path
    descriptor: dict[str, Any] = field(repr=False)

    @classmethod
    def load(cls, path: Path) -> Release:
        descriptor = json.loads((path / "datapackage.json").read_text(encoding="utf-8"))
        return cls(path=path, descriptor=descriptor)

    @property
    def name(self) -> str:
        return str(self.descriptor.get("name", self.path.parent.name))

    @property
    def version(self) -> str:
        return str(self.descriptor.get("version", self.path.name))

    @property
    def created(self) -> str:
        return str(self.descriptor.get("created", ""))

    @property
    def date(self) -> str:
        """The release date, YYYY-MM-DD."""
        return self.created[:10]

    @property
    def title(self) -> str:
        return str(self.descriptor.get("title", self.name))

    @property
    def license(self) -> str:
        licenses = self.descriptor.get("licenses") or [{}]
        return str(licenses[0].get("name") or licenses[0].get("title") or "CC-BY-4.0")

    @property
    def synthetic(self) -> bool:
        """Demo releases say so in the descriptor; the site then labels every page."""
        if "synthetic" in self.descriptor:
            return bool(self.descriptor["synthetic"])
        text = " ".join(
            str(self.descriptor.get(key, "")) for key in ("title", "description", "keywords")
        ).lower()
        return "synthetic" in text

    def resource(self, name: str) -> dict[str, Any]:
        for resource in self.descriptor.get("resources", []):
            if resource.get("name") == name:
                return resource
        raise KeyError(f"release {self.version} has no resource {name!r}")

    def has(self, name: str) -> bool:
        return any(resource.get("name") == name for resource in self.descriptor.get("resources", []))

    def field_units(self, name: str) -> dict[str, str]:
        fields = self.resource(name).get("schema", {}).get("fields", [])
        return {f["name"]: f.get("unit", "") or "" for f in fields}

    def table(self, name: str) -> pd.DataFrame:
        """A resource's CSV as strings (empty cells are '')."""
        if name not in self._tables:
            path = self.path / self.resource(name)["path"]
            self._tables[name] = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        return self._tables[name]

    @cached_property
    def _tables(self) -> dict[str, pd.DataFrame]:
        return {}

    def text_file(self, name: str) -> str:
        path = self.path / name
        return path.read_text(encoding="utf-8") if path.is_file() else ""

    def files(self) -> list[tuple[str, int, str]]:
        """Every file of the release: (relative path, bytes, sha256), from SHA256SUMS where present."""
        sums: dict[str, str] = {}
        for line in self.text_file("SHA256SUMS").splitlines():
            digest, _, relative = line.partition("  ")
            if relative:
                sums[relative.strip().lstrip("*")] = digest.strip()
        out = []
        for path in sorted(p for p in self.path.rglob("*") if p.is_file()):
            relative = path.relative_to(self.path).as_posix()
            digest = sums.get(relative) or hashlib.sha256(path.read_bytes()).hexdigest()
            out.append((relative, path.stat().st_size, digest))
        return out


def release_versions(package_dir: Path) -> list[str]:
    """All published versions, oldest first: from releases.json, else the folders with a descriptor."""
    index = package_dir / "releases.json"
    versions: list[str] = []
    if index.is_file():
        data = json.loads(index.read_text(encoding="utf-8"))
        entries = data.get("releases", []) if isinstance(data, dict) else data
        for entry in entries:
            version = entry.get("version") if isinstance(entry, dict) else entry
            if version and (package_dir / str(version) / "datapackage.json").is_file():
                versions.append(str(version))
    if not versions:
        found = [p for p in package_dir.iterdir() if (p / "datapackage.json").is_file()]
        found.sort(key=lambda p: Release.load(p).created)
        versions = [p.name for p in found]
    return versions


def latest_version(package_dir: Path, versions: list[str]) -> str:
    pointer = package_dir / "LATEST"
    if pointer.is_file():
        version = pointer.read_text(encoding="utf-8").strip()
        if version in versions:
            return version
    if not versions:
        raise FileNotFoundError(f"no published release in {package_dir}")
    return versions[-1]


def load_releases(package_dir: Path) -> tuple[Release, list[Release]]:
    """The latest release and all releases (oldest first) of one package."""
    if not package_dir.is_dir():
        raise FileNotFoundError(f"no releases in {package_dir}; cut one with `instep release` first")
    versions = release_versions(package_dir)
    latest = latest_version(package_dir, versions)
    releases = [Release.load(package_dir / version) for version in versions]
    current = next(release for release in releases if release.version == latest)
    return current, releases
