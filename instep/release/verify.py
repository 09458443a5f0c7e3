"""`instep verify`: is a release folder exactly what its publisher signed?

Checks, each problem naming the file: the Ed25519 signature of SHA256SUMS (against a key the reader
trusts, or else the release's own signing-key.pub), every checksum in SHA256SUMS, files present but not
listed, the hashes and sizes datapackage.json gives for every CSV, Parquet and database file, and every
member of the zip against the file it packs.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from instep.release.checksums import SUMS_NAME, read_sums, release_files, sha256_file
from instep.release.signing import PUBLIC_KEY_NAME, SIGNATURE_NAME, SigningError, fingerprint, signature_valid

DESCRIPTOR_NAME = "datapackage.json"
# Written after SHA256SUMS, so not listed in it.
UNLISTED = {SUMS_NAME, SIGNATURE_NAME, PUBLIC_KEY_NAME}


@dataclass(frozen=True)
class Problem:
    file: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


@dataclass
class Verification:
    files_checked: int = 0
    key_fingerprint: str | None = None
    key_source: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_signature(directory: Path, trusted_key: bytes | None, result: Verification) -> None:
    sums, signature_path = directory / SUMS_NAME, directory / SIGNATURE_NAME
    if not signature_path.is_file():
        result.problems.append(Problem(SIGNATURE_NAME, "missing: the release is not signed"))
        return
    if trusted_key is None:
        key_path = directory / PUBLIC_KEY_NAME
        if not key_path.is_file():
            result.problems.append(Problem(PUBLIC_KEY_NAME, "missing: no key to check the signature with"))
            return
        key, result.key_source = key_path.read_bytes(), f"the release's own {PUBLIC_KEY_NAME}"
    else:
        key, result.key_source = trusted_key, "the trusted key given"
    try:
        result.key_fingerprint = fingerprint(key)
        valid = signature_valid(key, signature_path.read_bytes(), sums.read_bytes())
    except SigningError as error:
        result.problems.append(Problem(PUBLIC_KEY_NAME, str(error)))
        return
    if not valid:
        result.problems.append(
            Problem(SIGNATURE_NAME, f"the signature of {SUMS_NAME} does not verify with {result.key_source}")
        )


def _check_sums(directory: Path, result: Verification) -> dict[str, str]:
    sums = read_sums(directory / SUMS_NAME)
    present = set(release_files(directory))
    for name, digest in sorted(sums.items()):
        path = directory / name
        if name not in present:
            result.problems.append(Problem(name, f"listed in {SUMS_NAME} but missing"))
            continue
        result.files_checked += 1
        if sha256_file(path) != digest:
            result.problems.append(Problem(name, f"checksum differs from {SUMS_NAME}"))
    for name in sorted(present - set(sums) - UNLISTED):
        result.problems.append(Problem(name, f"present but not listed in {SUMS_NAME}"))
    return sums


def _check_descriptor(directory: Path, result: Verification) -> None:
    path = directory / DESCRIPTOR_NAME
    try:
        descriptor = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        result.problems.append(Problem(DESCRIPTOR_NAME, f"unreadable: {error}"))
        return
    entries: list[dict] = []
    for resource in descriptor.get("resources", []):
        entries.append(resource)
        if "parquet" in resource:
            entries.append(resource["parquet"])
    if "database" in descriptor:
        entries.append(descriptor["database"])
    for entry in entries:
        name = str(entry.get("path", ""))
        target = directory / name
        if not name or not target.is_file():
            missing = Problem(name or DESCRIPTOR_NAME, f"named in {DESCRIPTOR_NAME} but missing")
            result.problems.append(missing)
            continue
        if entry.get("hash") != f"sha256:{sha256_file(target)}":
            result.problems.append(Problem(name, f"hash differs from {DESCRIPTOR_NAME}"))
        if "bytes" in entry and entry["bytes"] != target.stat().st_size:
            result.problems.append(Problem(name, f"size differs from {DESCRIPTOR_NAME}"))


def _check_zips(directory: Path, sums: dict[str, str], result: Verification) -> None:
    for archive_path in sorted(directory.glob("*.zip")):
        try:
            with zipfile.ZipFile(archive_path) as archive:
                for member in archive.namelist():
                    inner = member.split("/", 1)[1] if "/" in member else member
                    digest = hashlib.sha256(archive.read(member)).hexdigest()
                    if sums.get(inner) != digest:
                        result.problems.append(
                            Problem(f"{archive_path.name}!{member}", f"differs from {inner} in {SUMS_NAME}")
                        )
        except (zipfile.BadZipFile, OSError) as error:
            result.problems.append(Problem(archive_path.name, f"unreadable zip: {error}"))


def verify_release(directory: Path, trusted_key: bytes | None = None) -> Verification:
    """Every check of the release folder `directory`; `trusted_key` a PEM public key the reader trusts."""
    result = Verification()
    if not (directory / SUMS_NAME).is_file():
        result.problems.append(Problem(SUMS_NAME, f"missing: {directory} is not a release folder"))
        return result
    _check_signature(directory, trusted_key, result)
    sums = _check_sums(directory, result)
    _check_descriptor(directory, result)
    _check_zips(directory, sums, result)
    return result
