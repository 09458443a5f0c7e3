"""Write a release: `datapackages/<package>/<version>/`, complete, checked, immutable, or nothing at all.

Steps: read the `pub_*` tables in the order of the metadata model and compute the `changes` table against
the previous release; write CSV and Parquet per resource and one DuckDB database; the `datapackage.json`,
CHANGELOG.md, CITATION.cff, CITATION.bib and the provenance statement; scan everything for what must
never be published; zip it; write SHA256SUMS and sign it with the workspace's key. All of it goes
to a hidden sibling folder that is renamed into place only when complete, so a crash leaves no partial
release and the previous state untouched. One publisher at a time holds the package's release lock.

Same inputs, configuration and version give byte-identical files (all but SHA256SUMS.sig and
signing-key.pub, which depend on the workspace's key): rows in a fixed order, one spelling
per number, Parquet without wall-clock metadata, the DuckDB header identifier fixed (see `database`),
zip entries sorted with fixed timestamps, and the release date taken from configuration or
SOURCE_DATE_EPOCH, never from the clock.
"""

from __future__ import annotations

import filecmp
import json
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from filelock import FileLock, Timeout

from instep import package_index as index
from instep.disclosure import audit as disclosure_audit
from instep.metadata.model import Resource
from instep.metadata.resources import CHANGES, RELEASE_RESOURCES, RESOURCES
from instep.release import about, changelog, citation, privacy
from instep.release.cells import csv_text
from instep.release.changes import ReleaseChanges, changes_table, compare_releases
from instep.release.checksums import SUMS_NAME, release_files, sha256_file, write_sums, write_zip
from instep.release.database import about_row, write_database
from instep.release.descriptor import package_descriptor, schema_descriptor
from instep.release.provenance import (
    PROVENANCE_NAME,
    provenance,
    provenance_statement,
    submission_files_used,
    without_code_fields,
)
from instep.release.signing import PUBLIC_KEY_NAME, SIGNATURE_NAME, fingerprint, sign_release
from instep.release.tables import pub_table_name, pub_tables_present, read_pub_table
from instep.settings import Settings
from instep.warehouse import connect

DESCRIPTOR_NAME = "datapackage.json"
CHANGELOG_NAME = "CHANGELOG.md"
VERSION_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$")
LOCK_NAME = ".publish.lock"
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 9,
    "use_dictionary": True,
    "write_statistics": True,
}


class ReleaseError(RuntimeError):
    pass


class ReleaseConflict(ReleaseError):
    """The version is already published with different content."""


class ReleaseBusy(ReleaseError):
    pass


@dataclass(frozen=True)
class Release:
    package_name: str
    version: str
    release_date: date
    path: Path
    rows: dict[str, int]
    datapackage_sha256: str
    zip_sha256: str
    # False when the same version was already published with the same content (nothing written).
    published: bool = True
    duckdb_reproducible: bool = True
    files: list[str] = field(default_factory=list)

    @property
    def zip_path(self) -> Path:
        return self.path / zip_name(self.package_name, self.version)


def zip_name(package_name: str, version: str) -> str:
    return f"{package_name}-{version}.zip"


def database_name(package_name: str) -> str:
    return f"{package_name}.duckdb"


def package_dir(settings: Settings) -> Path:
    return settings.datapackages_dir / settings.package_name


def default_version(release_date: date) -> str:
    """Calendar versions: the release date as YYYY.MM.DD (a second release that day gets .2, .3, ...)."""
    return release_date.strftime("%Y.%m.%d")


def resolve_release_date(value: str | date | None, settings: Settings) -> date:
    """The configured date, else SOURCE_DATE_EPOCH (UTC), else the workspace's reporting date (as_of)."""
    if isinstance(value, date):
        return value
    if value:
        return date.fromisoformat(value)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), tz=UTC).date()
    return settings.as_of


def check_version(version: str) -> str:
    if not VERSION_PATTERN.match(version) or ".." in version:
        raise ReleaseError(
            f"version {version!r} is not usable as a release folder name: use letters, digits, '.', '-', '+'"
        )
    return version


# --- writing the files ----------------------------------------------------------------------------------


def write_csv(path: Path, resource: Resource, table: pa.Table) -> None:
    path.write_text(csv_text(list(resource.field_names), table), encoding="utf-8", newline="")


def write_parquet(path: Path, table: pa.Table) -> None:
    pq.write_table(table, path, **PARQUET_OPTIONS)


def _submissions_record(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "submission_files" not in tables:
        return None
    files, last = con.execute("SELECT count(*), coalesce(max(file_seq), 0) FROM submission_files").fetchone()
    return {"files": files, "last_file_seq": last}


def _aggregate_only_restatements(con: duckdb.DuckDBPyConnection, since_file_seq: int) -> int | None:
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if not {"submission_rows", "submission_files", "facilities"} <= tables:
        return None
    return con.execute(
        """
        SELECT count(*) FROM submission_rows AS r
        JOIN submission_files AS later ON later.submission_id = r.superseded_by
        JOIN facilities AS f ON f.facility_id = r.facility_id
        WHERE r.state = 'superseded' AND f.disclosure = 'aggregate_only' AND later.file_seq > ?
        """,
        [since_file_seq],
    ).fetchone()[0]


def _changes_since(
    previous: changelog.Snapshot | None, resources: Sequence[Resource], tables: dict[str, pa.Table]
) -> ReleaseChanges | None:
    """The rows of the `changes` resource against the previous release (None for a first release)."""
    if previous is None:
        return None
    current = {"resources": [{"name": r.name, "schema": schema_descriptor(r)} for r in resources]}
    return compare_releases(previous.descriptor, previous.tables, current, tables)


@dataclass(frozen=True)
class BuiltFiles:
    rows: dict[str, int]
    duckdb_reproducible: bool


def build_release_files(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    directory: Path,
    *,
    version: str,
    release_date: date,
    previous: changelog.Snapshot | None,
    resources: Sequence[Resource],
) -> BuiltFiles:
    """Write every file of a release into `directory` (empty), privacy scan included."""
    name = settings.package_name
    missing = [pub_table_name(r) for r in resources if pub_table_name(r) not in pub_tables_present(con)]
    if missing:
        raise ReleaseError(
            f"the warehouse lacks the publishable tables {', '.join(missing)}: "
            "run disclosure (asset pub_tables) before releasing"
        )
    data_dir = directory / "data"
    data_dir.mkdir(parents=True)
    tables = {r.name: read_pub_table(con, r) for r in resources}
    release_changes = _changes_since(previous, resources, tables)
    tables[CHANGES.name] = changes_table(release_changes.changes if release_changes else [])
    resources = [*resources, *RELEASE_RESOURCES]
    files: dict[str, dict[str, Any]] = {}
    for resource in resources:
        csv_path, parquet_path = data_dir / f"{resource.name}.csv", data_dir / f"{resource.name}.parquet"
        write_csv(csv_path, resource, tables[resource.name])
        write_parquet(parquet_path, tables[resource.name])
        files[resource.name] = {
            "csv_path": f"data/{csv_path.name}",
            "csv_sha256": sha256_file(csv_path),
            "csv_bytes": csv_path.stat().st_size,
            "parquet_path": f"data/{parquet_path.name}",
            "parquet_sha256": sha256_file(parquet_path),
            "parquet_bytes": parquet_path.stat().st_size,
            "rows": tables[resource.name].num_rows,
        }
    db_path = directory / database_name(name)
    reproducible = write_database(
        db_path,
        resources,
        tables,
        seed=f"{name}:{version}",
        release_about=about_row(name, version, release_date, settings.synthetic, about.homepage(settings)),
    )
    database = {
        "path": db_path.name,
        "format": "duckdb",
        "tables": [r.name for r in resources],
        "hash": f"sha256:{sha256_file(db_path)}",
        "bytes": db_path.stat().st_size,
        "byte_reproducible": reproducible,
    }
    descriptor = package_descriptor(
        name=name,
        version=version,
        release_date=release_date,
        synthetic=settings.synthetic,
        resources=resources,
        files=files,
        database=database,
        provenance=provenance(settings, _submissions_record(con)),
        homepage=about.homepage(settings),
        homepage_placeholder=about.homepage_is_placeholder(settings),
    )
    (directory / DESCRIPTOR_NAME).write_text(
        json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8", newline="\n"
    )
    since = 0
    if previous is not None:
        since = (previous.descriptor.get("provenance", {}).get("submissions") or {}).get("last_file_seq", 0)
    text = changelog.render_changelog(
        package_name=name,
        version=version,
        release_date=release_date,
        previous_version=previous.version if previous is not None else None,
        changes=release_changes,
        row_counts={r.name: tables[r.name].num_rows for r in resources},
        resources=resources,
        aggregate_only_restatements=_aggregate_only_restatements(con, since),
    )
    (directory / CHANGELOG_NAME).write_text(text, encoding="utf-8", newline="\n")
    (directory / "CITATION.cff").write_text(
        citation.citation_cff(name, version, release_date, settings.synthetic, about.homepage(settings)),
        encoding="utf-8",
        newline="\n",
    )
    (directory / "CITATION.bib").write_text(
        citation.citation_bib(name, version, release_date, settings.synthetic, about.homepage(settings)),
        encoding="utf-8",
        newline="\n",
    )
    # Before anything else is written about it: a release that reveals a hidden facility stops here.
    disclosure_audit.check_release(con, directory, directory.parent, version)
    statement = provenance_statement(
        settings,
        version=version,
        release_date=release_date,
        subjects=[(n, sha256_file(directory / n)) for n in release_files(directory)],
        submission_files=submission_files_used(con),
    )
    (directory / PROVENANCE_NAME).write_text(
        json.dumps(statement, indent=2, ensure_ascii=False) + "\n", encoding="utf-8", newline="\n"
    )
    rules = privacy.rules_from_warehouse(con)
    contents = release_files(directory)
    archive = write_zip(
        directory, contents, directory / zip_name(name, version), f"{name}-{version}", release_date
    )
    # One scan of everything: the zip's members identical to files passed in it are not read twice.
    privacy.check_release(directory, rules, [*contents, archive.name])
    write_sums(directory, release_files(directory))
    sign_release(settings, directory, SUMS_NAME)
    return BuiltFiles(
        rows={r.name: tables[r.name].num_rows for r in resources}, duckdb_reproducible=reproducible
    )


# --- publishing -----------------------------------------------------------------------------------------


@contextmanager
def publish_lock(settings: Settings, timeout_s: float = 60.0) -> Iterator[Path]:
    directory = package_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(directory / LOCK_NAME))
    try:
        lock.acquire(timeout=timeout_s)
    except Timeout:
        raise ReleaseBusy(
            f"another release of {settings.package_name} is being published "
            f"(lock {LOCK_NAME} in {directory}); wait for it to finish and try again"
        ) from None
    try:
        yield directory
    finally:
        lock.release()


def _descriptor_without_commit(path: Path) -> dict[str, Any]:
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    descriptor.get("provenance", {}).pop("git_commit", None)
    return descriptor


def _statement_without_commit(path: Path) -> dict[str, Any]:
    return without_code_fields(json.loads(path.read_text(encoding="utf-8")))


def differing_files(new: Path, old: Path) -> list[str]:
    """Files that differ between two release folders (present in one only, or with other bytes).

    A release rebuilt from a later commit of the code with the same data differs only in the commit it
    records; that is not a change of content, so datapackage.json and the provenance statement are
    compared without it (and the zip and SHA256SUMS, which contain them, are then not counted either).
    The signature and the public key are not content: a release re-signed by a rotated key is the same
    release.
    """
    not_content = {SIGNATURE_NAME, PUBLIC_KEY_NAME}
    new_files = set(release_files(new)) - not_content
    old_files = set(release_files(old)) - not_content
    differing = sorted(new_files ^ old_files)
    for name in sorted(new_files & old_files):
        if not filecmp.cmp(new / name, old / name, shallow=False):
            differing.append(name)
    records = {DESCRIPTOR_NAME, PROVENANCE_NAME}
    derived = records | {SUMS_NAME} | {n for n in differing if n.endswith(".zip")}
    if (
        differing
        and set(differing) <= derived
        and set(differing) & records
        and _descriptor_without_commit(new / DESCRIPTOR_NAME)
        == _descriptor_without_commit(old / DESCRIPTOR_NAME)
        and (
            PROVENANCE_NAME not in differing
            or _statement_without_commit(new / PROVENANCE_NAME)
            == _statement_without_commit(old / PROVENANCE_NAME)
        )
    ):
        return []
    return sorted(differing)


def _previous_snapshot(directory: Path, version: str) -> changelog.Snapshot | None:
    """The release this one follows: the one before it in releases.json, or the last one if it is new."""
    versions = [r["version"] for r in index.read_index(directory)]
    earlier = versions[: versions.index(version)] if version in versions else versions
    for candidate in reversed(earlier):
        if (directory / candidate / DESCRIPTOR_NAME).exists():
            return changelog.load_snapshot(directory / candidate)
    return None


def _release_record(
    path: Path, version: str, release_date: date, rows: dict[str, int], name: str
) -> dict[str, Any]:
    return {
        "version": version,
        "date": release_date.isoformat(),
        "path": f"{version}/",
        "datapackage": f"{version}/{DESCRIPTOR_NAME}",
        "datapackage_sha256": sha256_file(path / DESCRIPTOR_NAME),
        "zip": zip_name(name, version),
        "zip_sha256": sha256_file(path / zip_name(name, version)),
        "checksums": f"{version}/{SUMS_NAME}",
        "signature": f"{version}/{SIGNATURE_NAME}",
        "signing_key": f"{version}/{PUBLIC_KEY_NAME}",
        "signing_key_fingerprint": fingerprint((path / PUBLIC_KEY_NAME).read_bytes()),
        "rows": rows,
    }


def _stage_and_place(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    directory: Path,
    version: str,
    release_date: date,
    resources: Sequence[Resource],
    *,
    strict: bool,
) -> Release | None:
    """Build into a hidden sibling, then rename it into place, or find the same content already there.

    Returns None when `strict` is False and the version holds other content (the caller picks another).
    """
    final = directory / version
    # The publish lock is held: any staging folder left here belongs to a publisher that was killed.
    for leftover in directory.glob(".*.partial-*"):
        shutil.rmtree(leftover)
    staging = directory / f".{version}.partial-{os.getpid()}"
    staging.mkdir()
    try:
        built = build_release_files(
            con,
            settings,
            staging,
            version=version,
            release_date=release_date,
            previous=_previous_snapshot(directory, version),
            resources=resources,
        )
        if final.exists():
            differing = differing_files(staging, final)
            if differing:
                if not strict:
                    return None
                listed = ", ".join(differing[:20]) + (" ..." if len(differing) > 20 else "")
                raise ReleaseConflict(
                    f"release {settings.package_name} {version} is already published with different content "
                    f"({len(differing)} files differ: {listed}); a published release never changes: "
                    "publish the new data under a new version"
                )
            return _placed(settings, final, release_date, built, published=False)
        os.rename(staging, final)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return _placed(settings, final, release_date, built, published=True)


def _placed(
    settings: Settings, final: Path, release_date: date, built: BuiltFiles, *, published: bool
) -> Release:
    """The release now in `final`; a newly published one is added to the release index."""
    version = final.name
    record = _release_record(final, version, release_date, built.rows, settings.package_name)
    if published:
        index.add_release(final.parent, settings.package_name, record)
        # The key of the latest release beside latest.json, where tools and the site find it.
        shutil.copyfile(final / PUBLIC_KEY_NAME, final.parent / PUBLIC_KEY_NAME)
    return Release(
        settings.package_name,
        version,
        release_date,
        final,
        built.rows,
        record["datapackage_sha256"],
        record["zip_sha256"],
        published=published,
        duckdb_reproducible=built.duckdb_reproducible,
        files=release_files(final),
    )


def publish_release(
    settings: Settings,
    *,
    version: str | None = None,
    release_date: str | date | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    resources: Sequence[Resource] | None = None,
) -> Release:
    """Publish the warehouse's `pub_*` tables as a release of the package.

    With a `version`, the release is that version: if it is already published with the same content
    nothing is written (`published` False), with other content a ReleaseConflict names the files that
    differ. Without one, the version is the release date YYYY.MM.DD, then YYYY.MM.DD.2, ... if that day
    already has a release with other content. `con` is a warehouse connection (opened, with the writer
    lock, when not given).
    """
    when = resolve_release_date(release_date, settings)
    chosen = list(resources if resources is not None else RESOURCES)
    # Lock order everywhere: the warehouse first, then the package's release lock.
    if con is None:
        with connect(settings) as own:
            return publish_release(settings, version=version, release_date=when, con=own, resources=chosen)
    with publish_lock(settings) as directory:
        return _publish(con, settings, directory, version, when, chosen)


def _publish(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    directory: Path,
    version: str | None,
    when: date,
    resources: Sequence[Resource],
) -> Release:
    if version:
        release = _stage_and_place(
            con, settings, directory, check_version(version), when, resources, strict=True
        )
        assert release is not None
        return release
    base = default_version(when)
    for n in range(1, 1000):
        candidate = base if n == 1 else f"{base}.{n}"
        release = _stage_and_place(con, settings, directory, candidate, when, resources, strict=False)
        if release is not None:
            return release
    raise ReleaseError(f"more than 999 releases dated {when.isoformat()}")
