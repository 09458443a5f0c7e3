"""What changed since the previous release: schemas, rows per resource (by primary key), restated values.

Restated values are listed by facility, key and column (old -> new) only for resources that carry a
facility_id in their primary key, which hold public facilities only (disclosure has removed the others).
Restatements by facilities published only in aggregates are counted, never named.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from instep.release.cells import format_cell

Rows = list[dict[str, Any]]
# A resource's rows: Arrow tables as the writer holds them, turned into Python rows only when compared.
TableRows = Rows | pa.Table


@dataclass(frozen=True)
class Snapshot:
    """A release as the changelog sees it: its descriptor and the rows of every resource."""

    version: str
    descriptor: Mapping[str, Any]
    tables: Mapping[str, TableRows]


@dataclass
class ResourceChanges:
    name: str
    schema: list[str] = field(default_factory=list)
    added: int = 0
    removed: int = 0
    changed: int = 0
    compared: bool = True
    restated: list[tuple[str, str, str, str, str]] = field(default_factory=list)


def load_snapshot(release_dir: Path) -> Snapshot:
    descriptor = json.loads((release_dir / "datapackage.json").read_text(encoding="utf-8"))
    tables = {r["name"]: pq.read_table(release_dir / r["parquet"]["path"]) for r in descriptor["resources"]}
    return Snapshot(version=descriptor["version"], descriptor=descriptor, tables=tables)


def _rows(table: TableRows) -> Rows:
    return table.to_pylist() if isinstance(table, pa.Table) else table


def _fields(resource: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {f["name"]: f for f in resource["schema"]["fields"]}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def _schema_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    notes: list[str] = []
    old_fields, new_fields = _fields(old), _fields(new)
    for name in new_fields.keys() - old_fields.keys():
        notes.append(f"field `{name}` added ({new_fields[name]['type']})")
    for name in old_fields.keys() - new_fields.keys():
        notes.append(f"field `{name}` removed")
    for name in old_fields.keys() & new_fields.keys():
        for prop in ("type", "unit"):
            before, after = old_fields[name].get(prop), new_fields[name].get(prop)
            if before != after:
                notes.append(f"field `{name}`: {prop} {before or '(none)'} -> {after or '(none)'}")
    if old["schema"].get("primaryKey") != new["schema"].get("primaryKey"):
        notes.append(f"primary key {old['schema'].get('primaryKey')} -> {new['schema'].get('primaryKey')}")
    return sorted(notes)


def compare(previous: Snapshot, current: Snapshot) -> tuple[list[str], list[ResourceChanges]]:
    """Resources added or removed, and the changes of every resource present in both releases."""
    old_resources = {r["name"]: r for r in previous.descriptor["resources"]}
    new_resources = {r["name"]: r for r in current.descriptor["resources"]}
    package_notes = [f"resource `{n}` added" for n in new_resources if n not in old_resources]
    package_notes += [f"resource `{n}` removed" for n in old_resources if n not in new_resources]
    changes: list[ResourceChanges] = []
    for name, new in new_resources.items():
        if name not in old_resources:
            continue
        old = old_resources[name]
        result = ResourceChanges(name=name, schema=_schema_changes(old, new))
        key = list(new["schema"]["primaryKey"])
        if key != list(old["schema"]["primaryKey"]):
            result.compared = False
            changes.append(result)
            continue
        common = [f for f in _fields(new) if f in _fields(old) and f not in key]
        before = {tuple(row[k] for k in key): row for row in _rows(previous.tables[name])}
        after = {tuple(row[k] for k in key): row for row in _rows(current.tables[name])}
        result.added = len(after.keys() - before.keys())
        result.removed = len(before.keys() - after.keys())
        facility_level = "facility_id" in key
        for k in sorted(after.keys() & before.keys(), key=lambda t: tuple(format_cell(v) for v in t)):
            differing = [c for c in common if not _same(before[k][c], after[k][c])]
            if not differing:
                continue
            result.changed += 1
            if facility_level:
                where = dict(zip(key, k, strict=True))
                facility = str(where.pop("facility_id"))
                label = ", ".join(format_cell(v) for v in where.values())
                for column in differing:
                    result.restated.append(
                        (
                            facility,
                            label,
                            column,
                            format_cell(before[k][column]),
                            format_cell(after[k][column]),
                        )
                    )
        changes.append(result)
    return package_notes, changes


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_changelog(
    *,
    package_name: str,
    version: str,
    release_date: date,
    previous: Snapshot | None,
    current: Snapshot,
    resource_order: Sequence[str],
    aggregate_only_restatements: int | None = None,
) -> str:
    lines = [f"# Changelog of {package_name} {version}", "", f"Released {release_date.isoformat()}.", ""]
    if previous is None:
        lines += ["First release: every resource is new.", "", "| resource | rows |", "|---|---:|"]
        lines += [f"| {n} | {len(current.tables[n])} |" for n in resource_order]
        return "\n".join(lines) + "\n"
    package_notes, changes = compare(previous, current)
    lines += [f"Changes since release {previous.version}.", "", "## Schema", ""]
    schema_lines = [f"- {note}" for note in package_notes]
    for change in changes:
        schema_lines += [f"- `{change.name}`: {note}" for note in change.schema]
    lines += schema_lines or ["No schema changes."]
    lines += [
        "",
        "## Rows",
        "",
        "| resource | rows | added | removed | changed |",
        "|---|---:|---:|---:|---:|",
    ]
    by_name = {c.name: c for c in changes}
    for name in resource_order:
        change = by_name.get(name)
        rows = len(current.tables[name])
        if change is None:
            lines.append(f"| {name} | {rows} | {rows} (new resource) | | |")
        elif not change.compared:
            lines.append(f"| {name} | {rows} | primary key changed: rows not compared | | |")
        else:
            lines.append(f"| {name} | {rows} | {change.added} | {change.removed} | {change.changed} |")
    lines += ["", "## Restated values", ""]
    restated = [(c.name, r) for c in changes for r in c.restated]
    if restated:
        lines += [
            "Values of public facilities that changed since the previous release (old -> new).",
            "",
            "| resource | facility | period / key | column | old | new |",
            "|---|---|---|---|---:|---:|",
        ]
        lines += [
            f"| {name} | {_md(f)} | {_md(k)} | {_md(c)} | {_md(o)} | {_md(n)} |"
            for name, (f, k, c, o, n) in restated
        ]
    else:
        lines.append("No values of public facilities were restated.")
    if aggregate_only_restatements is not None:
        lines += [
            "",
            f"Restatements received from facilities published only in park aggregates: "
            f"{aggregate_only_restatements} (counted, not listed; they change park totals only).",
        ]
    return "\n".join(lines) + "\n"
