"""Where a release came from: code commit, methodological choices and the checksums of every input.

`provenance` is the short record inside datapackage.json. `provenance_statement` is the release's
`provenance.intoto.json`: an in-toto Statement (SLSA provenance predicate) whose subjects are the release's
data files and whose resolved dependencies are every archived submission file that holds an accepted
row, the reference files, the rubric and the code commit, with the versions of the tools that wrote it.
It holds no timestamp: the release date is the only date, so that the same inputs give the same bytes.
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
from collections.abc import Sequence
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb

from instep.reference import REFERENCE_FILES, file_sha256
from instep.rubric import rubric_path
from instep.settings import REPO_ROOT, Settings

PROVENANCE_NAME = "provenance.intoto.json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "urn:instep-open-data:release:v1"
BUILDER_ID = "urn:instep-open-data:instep"
# Distributions whose versions decide the bytes of a release.
TOOLS = ("instep-open-data", "duckdb", "pyarrow", "frictionless", "cryptography", "numpy")


def _git(*args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout


def git_commit() -> str | None:
    """The commit of the code that built the release, or None outside a git checkout."""
    out = _git("rev-parse", "HEAD")
    return (out or "").strip() or None


def git_tree_dirty() -> bool | None:
    """True when tracked files differ from the commit (the release was built from uncommitted code)."""
    out = _git("status", "--porcelain", "--untracked-files=no")
    return None if out is None else bool(out.strip())


def tool_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in TOOLS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


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


def submission_files_used(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(archived file name, sha256) of every archived submission file with a current accepted row."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if not {"submission_files", "submission_rows"} <= tables:
        return []
    rows = con.execute(
        """
        SELECT DISTINCT f.archived_path, f.file_hash FROM submission_files AS f
        JOIN submission_rows AS r ON r.submission_id = f.submission_id
        WHERE r.state = 'accepted'
        ORDER BY f.archived_path, f.file_hash
        """
    ).fetchall()
    return [(str(path), str(digest)) for path, digest in rows]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def provenance_statement(
    settings: Settings,
    *,
    version: str,
    release_date: date,
    subjects: Sequence[tuple[str, str]],
    submission_files: Sequence[tuple[str, str]],
) -> dict[str, Any]:
    """The in-toto Statement of a release; `subjects` (path, sha256) of the files it describes."""
    rubric = rubric_path(settings.rubric_version)
    dependencies: list[dict[str, Any]] = [
        {
            "name": "source",
            "uri": "git+instep-open-data",
            "digest": {"gitCommit": git_commit() or "unknown"},
            "annotations": {"git_commit": git_commit(), "git_tree_dirty": git_tree_dirty()},
        },
        *(
            {"name": f"instep/reference/{name}", "digest": {"sha256": file_sha256(name)}}
            for name in REFERENCE_FILES
        ),
        {"name": f"instep/rubric/{rubric.name}", "digest": {"sha256": _sha256(rubric)}},
        *(
            {"name": f"archive/{Path(path).name}", "digest": {"sha256": digest}}
            for path, digest in submission_files
        ),
    ]
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {"sha256": digest}} for name, digest in subjects],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "package": settings.package_name,
                    "version": version,
                    "release_date": release_date.isoformat(),
                },
                "internalParameters": {
                    "gwp_set": settings.gwp_set,
                    "rubric_version": settings.rubric_version,
                    "synthetic": settings.synthetic,
                },
                "resolvedDependencies": dependencies,
            },
            "runDetails": {
                "builder": {"id": BUILDER_ID, "version": tool_versions()},
                "metadata": {"invocationId": f"{settings.package_name}:{version}"},
            },
        },
    }


def without_code_fields(statement: dict[str, Any]) -> dict[str, Any]:
    """The statement minus what changes when the same content is rebuilt from another commit."""
    copy = {**statement, "predicate": {**statement.get("predicate", {})}}
    definition = dict(copy["predicate"].get("buildDefinition", {}))
    definition["resolvedDependencies"] = [
        d for d in definition.get("resolvedDependencies", []) if d.get("name") != "source"
    ]
    copy["predicate"]["buildDefinition"] = definition
    return copy
