"""Versioned, immutable, reproducible Frictionless releases of the published tables.

The API the pipeline, the command line and the site use:

- `publish_release(settings, version=None, release_date=None, con=None, resources=None) -> Release`
- `build_pub_tables(con, settings) -> dict[str, int]` (disclosure, then registry and reference tables)
- `read_index(package_dir) -> list[dict]`, `latest_version(package_dir) -> str | None`
- `package_dir(settings) -> Path`: `datapackages/<package-name>/`
- `instep.release.verify.verify_release(release_dir, trusted_key=None) -> Verification`: signature,
  checksums, descriptor hashes and zip members of a published release
- `instep.release.signing.generate_key(settings, rotate=False)`: the workspace's signing key
"""

from instep.package_index import latest_version, read_index
from instep.release.privacy import PrivacyLeak
from instep.release.pub_tables import build_pub_tables
from instep.release.writer import (
    Release,
    ReleaseBusy,
    ReleaseConflict,
    ReleaseError,
    default_version,
    package_dir,
    publish_release,
    resolve_release_date,
)

__all__ = [
    "PrivacyLeak",
    "Release",
    "ReleaseBusy",
    "ReleaseConflict",
    "ReleaseError",
    "build_pub_tables",
    "default_version",
    "latest_version",
    "package_dir",
    "publish_release",
    "read_index",
    "resolve_release_date",
]
