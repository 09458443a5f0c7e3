"""The archive of received files: each kept by its content hash (archive/<sha256>.<ext>), made durable
before the ledger that names it commits, and checked against the ledger on every run."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb

# Concurrent fsync calls: the file system commits them together instead of one journal commit each.
FSYNC_THREADS = 16


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def archive_name(source: Path, file_hash: str) -> str:
    suffix = "".join(c for c in source.suffix.lower() if c.isalnum() or c == ".")[:8]
    return f"{file_hash}{suffix}"


def _fsync_path(path: Path, flags: int = os.O_RDONLY) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_archived(archive_dir: Path, moves: list[tuple[str, str]]) -> None:
    """Make the batch's archived copies durable under their final names, before the ledger commits.

    1. fsync every partial copy, concurrently: its bytes are on disk before any name points at them, so
       a file under its final name is always whole, also after a power cut (that is what lets a later run
       trust an archived file that exists already). Batched, the file system commits many fsyncs in one
       journal commit, instead of one commit per file interleaved with the copying.
    2. rename each partial copy to its final name (atomic; an existing copy with the same content wins,
       one whose content no longer matches its name is replaced).
    3. fsync the archive directory once: the renames are durable. Only then does the caller commit the
       ledger, so a committed ledger never names a file the archive could lose.
    A crash anywhere before the commit leaves partial copies (removed by the next run) and perhaps
    renamed copies the ledger does not name yet; the next run stages the same files again and finds them.
    """
    if moves:
        with ThreadPoolExecutor(max_workers=min(FSYNC_THREADS, len(moves))) as threads:
            list(threads.map(_fsync_path, [archive_dir / partial for partial, _ in moves]))
        for partial, final in moves:
            target = archive_dir / final
            if target.exists() and file_sha256(target) == final[:64]:
                (archive_dir / partial).unlink()
            else:  # absent, or altered on disk: the fsynced copy with the right content takes the name
                (archive_dir / partial).replace(target)
    _fsync_path(archive_dir)


def archive_ready(archive_dir: Path) -> None:
    """Create the archive directory (durably) and remove partial copies left by a killed run.

    Staging runs alone on its ledger (the warehouse has a single writer), so any partial copy found here
    belongs to a run that did not finish.
    """
    if not archive_dir.exists():
        archive_dir.mkdir(parents=True, exist_ok=True)
        _fsync_path(archive_dir.parent)
    for stale in archive_dir.glob(".*.partial"):
        stale.unlink(missing_ok=True)


@dataclass(frozen=True)
class ArchiveProblem:
    submission_id: str
    original_name: str
    archived_path: str
    problem: str


def _archived_names(archive_dir: Path) -> set[str]:
    """The regular files directly in the archive: one directory read instead of a `stat` per copy."""
    try:
        with os.scandir(archive_dir) as entries:
            return {entry.name for entry in entries if entry.is_file()}
    except OSError:
        return set()


def archive_problems(
    con: duckdb.DuckDBPyConnection, archive_dir: Path, *, verify_hashes: bool
) -> list[ArchiveProblem]:
    """Recorded files whose archived copy is missing or (with `verify_hashes`) no longer has its hash.

    The archive is the evidence behind every row of the ledger; a copy lost or changed on disk must be
    reported, never found out at an audit. Without `verify_hashes` only the presence of each copy is
    checked (one read of the archive's directory, as every run does); `instep doctor` reads and hashes
    every copy.
    """
    problems = []
    present = _archived_names(archive_dir)
    for submission_id, name, archived, file_hash in con.execute(
        "SELECT submission_id, original_name, archived_path, file_hash FROM submission_files "
        "ORDER BY file_seq"
    ).fetchall():
        # the name looked up first: a path per copy cost more than the directory read
        if archived not in present and not (archive_dir / archived).is_file():
            problems.append(ArchiveProblem(submission_id, name, archived, "the archived copy is missing"))
        elif verify_hashes and (found := file_sha256(archive_dir / archived)) != file_hash:
            problems.append(
                ArchiveProblem(
                    submission_id,
                    name,
                    archived,
                    f"the archived copy was altered: its SHA-256 is {found}, recorded {file_hash}",
                )
            )
    return problems
