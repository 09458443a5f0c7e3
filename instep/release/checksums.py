"""Checksums of release files, the SHA256SUMS file and the deterministic zip of a release."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterable
from datetime import date
from pathlib import Path

SUMS_NAME = "SHA256SUMS"
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def release_files(directory: Path) -> list[str]:
    """Every file of a release directory as sorted POSIX paths relative to it."""
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())


def write_sums(directory: Path, names: Iterable[str]) -> Path:
    """`sha256sum -c` compatible: '<hex>  <path>' per file, sorted by path."""
    lines = [f"{sha256_file(directory / name)}  {name}\n" for name in sorted(names)]
    path = directory / SUMS_NAME
    path.write_text("".join(lines), encoding="utf-8", newline="\n")
    return path


def read_sums(path: Path) -> dict[str, str]:
    sums: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        sums[name] = digest
    return sums


def write_zip(directory: Path, names: Iterable[str], target: Path, root: str, when: date) -> Path:
    """A zip whose bytes depend only on the files: sorted entries, fixed timestamps and permissions.

    Entries sit under `root/` so that unpacking gives one folder named like the release.
    """
    stamp = (max(when.year, 1980), when.month, when.day, 0, 0, 0)
    with zipfile.ZipFile(target, "w") as archive:
        for name in sorted(names):
            info = zipfile.ZipInfo(f"{root}/{name}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the permission bits below mean the same everywhere
            info.external_attr = 0o100644 << 16
            with (directory / name).open("rb") as source, archive.open(info, "w") as sink:
                while chunk := source.read(_CHUNK):
                    sink.write(chunk)
    return target
