"""schema.org `Dataset` descriptions of releases, for search engines and data catalogues.

Embedded in the downloads and release pages as `<script type="application/ld+json">`: a data block the
browser never executes, so the Content-Security-Policy allows it.
"""

from __future__ import annotations

import json
from typing import Any

from instep.site.release import Release

LICENSE_URLS = {"CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/"}
MEDIA_TYPES = {
    ".csv": "text/csv",
    ".parquet": "application/vnd.apache.parquet",
    ".json": "application/json",
    ".zip": "application/zip",
    ".duckdb": "application/x-duckdb",
    ".md": "text/markdown",
    ".cff": "text/plain",
}


def dataset(release: Release, site_url: str, page_path: str) -> dict[str, Any]:
    base = site_url.rstrip("/") + "/" if site_url else ""
    files = release.files()
    distribution = []
    for relative, size, digest in files:
        suffix = "." + relative.rsplit(".", 1)[-1] if "." in relative else ""
        if suffix not in (".csv", ".parquet", ".zip", ".duckdb") and relative != "datapackage.json":
            continue
        distribution.append(
            {
                "@type": "DataDownload",
                "name": relative,
                "contentUrl": f"{base}downloads/{release.version}/{relative}",
                "encodingFormat": MEDIA_TYPES.get(suffix, "application/octet-stream"),
                "contentSize": f"{size} B",
                "sha256": digest,
            }
        )
    descriptor = release.descriptor
    publisher = {"@type": "Organization", "name": "INSTEP programme"}
    contributors = descriptor.get("contributors") or []
    if contributors and contributors[0].get("title"):
        publisher["name"] = contributors[0]["title"]
    return {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "name": release.title,
        "description": descriptor.get("description", release.title),
        "identifier": descriptor.get("id", f"{release.name}/{release.version}"),
        "version": release.version,
        "datePublished": release.date,
        "url": f"{base}{page_path}",
        "license": LICENSE_URLS.get(release.license, release.license),
        "isAccessibleForFree": True,
        "keywords": descriptor.get("keywords", []),
        "creator": publisher,
        "publisher": publisher,
        "distribution": distribution,
    }


def script_tag(data: dict[str, Any]) -> str:
    text = json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")
    return f'<script type="application/ld+json">\n{text}\n</script>'
