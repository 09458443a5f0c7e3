"""The `datapackage.json` of a release, generated from the metadata model.

Written for Data Package v2 (`$schema` of the 2.0 profile, `type: table` resources, `sha256:` hashes)
in a form frictionless-py 5 also validates. Custom properties: `unit` on fields, `rows` and `parquet` on
resources, `database`, `synthetic` and `provenance` on the package.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from instep.metadata.model import Field, Resource
from instep.reference import read_rows
from instep.release import about

PROFILE_V2 = "https://datapackage.org/profiles/2.0/datapackage.json"

# Reference files whose per-row `source` column names a publication the package draws on.
SOURCE_FILES = ("fuels.csv", "gwp.csv", "grid_factors.csv", "zdhc_wastewater_limits.csv")


def field_descriptor(field: Field, primary_key: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": field.name, "type": field.type, "description": field.description}
    if field.unit:
        out["unit"] = field.unit
    constraints = field.constraints()
    if field.type != "string":
        # Table Schema allows `pattern` on strings only; other types carry their own format.
        constraints.pop("pattern", None)
    if field.name in primary_key:
        constraints["required"] = True
    if constraints:
        out["constraints"] = constraints
    return out


def schema_descriptor(resource: Resource) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "fields": [field_descriptor(f, resource.primary_key) for f in resource.fields],
        "missingValues": [""],
        "primaryKey": list(resource.primary_key),
    }
    if resource.foreign_keys:
        schema["foreignKeys"] = [
            {
                "fields": list(fk.fields),
                "reference": {"resource": fk.resource, "fields": list(fk.reference_fields)},
            }
            for fk in resource.foreign_keys
        ]
    return schema


def sources() -> list[dict[str, str]]:
    """Every publication named by the factor and limit tables, once, in a stable order."""
    titles: list[str] = []
    for name in SOURCE_FILES:
        for row in read_rows(name):
            text = row["source"].strip()
            if text and text not in titles:
                titles.append(text)
    return [{"title": "Facility submissions to the INSTEP programme (monthly reporting)"}] + [
        {"title": title} for title in titles
    ]


def package_descriptor(
    *,
    name: str,
    version: str,
    release_date: date,
    synthetic: bool,
    resources: Sequence[Resource],
    files: Mapping[str, Mapping[str, Any]],
    database: Mapping[str, Any],
    provenance: Mapping[str, Any],
    homepage: str,
    homepage_placeholder: bool = False,
) -> dict[str, Any]:
    """`files[resource]` holds csv_path, csv_sha256, csv_bytes, parquet_path, parquet_sha256,
    parquet_bytes and rows for every resource."""
    title = about.TITLE + (" (synthetic demonstration data)" if synthetic else "")
    description = (about.SYNTHETIC_NOTICE + "\n\n" if synthetic else "") + about.DESCRIPTION
    if homepage_placeholder:
        description += "\n\n" + about.PLACEHOLDER_NOTE
    keywords = [*about.KEYWORDS, *([about.SYNTHETIC_KEYWORD] if synthetic else [])]
    descriptor: dict[str, Any] = {
        "$schema": PROFILE_V2,
        "name": name,
        "id": f"urn:{name}:{version}",
        "version": version,
        "created": f"{release_date.isoformat()}T00:00:00Z",
        "title": title,
        "description": description,
        "homepage": homepage,
        "licenses": [dict(about.LICENSE)],
        "sources": sources(),
        "contributors": [{"title": about.PUBLISHER, "roles": ["publisher"]}],
        "keywords": keywords,
        "synthetic": synthetic,
        **({"homepage_placeholder": True} if homepage_placeholder else {}),
        "provenance": dict(provenance),
        "database": dict(database),
        "resources": [],
    }
    for resource in resources:
        info = files[resource.name]
        entry: dict[str, Any] = {
            "name": resource.name,
            "type": "table",
            "path": info["csv_path"],
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "title": resource.title,
            "description": resource.description,
            "hash": f"sha256:{info['csv_sha256']}",
            "bytes": info["csv_bytes"],
            "rows": info["rows"],
            "schema": schema_descriptor(resource),
            "parquet": {
                "path": info["parquet_path"],
                "format": "parquet",
                "mediatype": "application/vnd.apache.parquet",
                "hash": f"sha256:{info['parquet_sha256']}",
                "bytes": info["parquet_bytes"],
            },
        }
        if resource.caveats:
            entry["caveats"] = list(resource.caveats)
        if synthetic:
            entry["synthetic"] = True
        descriptor["resources"].append(entry)
    return descriptor
