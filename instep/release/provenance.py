"""Where a release came from: code commit, methodological choices and the reference files' checksums."""

from __future__ import annotations

import subprocess
from typing import Any

from instep.reference import REFERENCE_FILES, file_sha256
from instep.settings import REPO_ROOT, Settings


def git_commit() -> str | None:
    """The commit of the code that built the release, or None outside a git checkout."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = result.stdout.strip()
    return commit or None


def provenance(settings: Settings, submissions: dict[str, Any] | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "git_commit": git_commit(),
        "rubric_version": settings.rubric_version,
        "gwp_set": settings.gwp_set,
        "reference_files": {
            f"instep/reference/{name}": f"sha256:{file_sha256(name)}" for name in REFERENCE_FILES
        },
    }
    if submissions is not None:
        record["submissions"] = submissions
    return record
