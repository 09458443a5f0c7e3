"""Row-level changes of a release against the previous one: the rows of the `changes` resource.

A row is matched across releases by its primary key. Rows of facility-keyed resources whose facility is
no longer in the published `facilities` table (it now publishes only inside park totals) are counted,
never listed: naming them would publish the id of a facility that withdrew. Every value listed was
published in one of the two releases, so the table reveals nothing either release did not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from instep.metadata.resources import CHANGES, WHOLE_ROW
from instep.release.cells import format_cell
from instep.release.tables import arrow_schema

Rows = list[dict[str, Any]]
TableRows = Rows | pa.Table


@dataclass(frozen=True)
class Change:
    resource: str
    kind: str
    row_key: str
    column: str
    old: str
    new: str

    def as_row(self) -> dict[str, str]:
        return {
            "resource": self.resource,
            "kind": self.kind,
            "row_key": self.row_key,
            "column": self.column,
            "old": self.old,
            "new": self.new,
        }


@dataclass
class ResourceSummary:
    """What changed in one resource present in both releases."""

    name: str
    added: int = 0
    removed: int = 0
    changed_rows: int = 0
    restated_values: int = 0
    compared: bool = True
    # Rows added or removed for facilities not published individually in this release (not listed).
    unlisted_rows: int = 0


@dataclass
class ReleaseChanges:
    changes: list[Change] = field(default_factory=list)
    summaries: dict[str, ResourceSummary] = field(default_factory=dict)
    added_resources: list[str] = field(default_factory=list)
    removed_resources: list[str] = field(default_factory=list)

    def of_kind(self, *kinds: str) -> list[Change]:
        return [c for c in self.changes if c.kind in kinds]


def _rows(table: TableRows) -> Rows:
    return table.to_pylist() if isinstance(table, pa.Table) else table


def _fields(resource: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {f["name"]: f for f in resource["schema"]["fields"]}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def row_key_text(key: Sequence[str], values: Sequence[Any]) -> str:
    """'facility_id=ET-HAW-F001; period=2024-02': a primary key as one self-describing text."""
    return "; ".join(f"{name}={format_cell(value)}" for name, value in zip(key, values, strict=True))


def _schema_changes(name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    out: list[Change] = []
    old_fields, new_fields = _fields(old), _fields(new)
    for field_name in sorted(new_fields.keys() - old_fields.keys()):
        out.append(Change(name, "schema", "field", field_name, "", str(new_fields[field_name]["type"])))
    for field_name in sorted(old_fields.keys() - new_fields.keys()):
        out.append(Change(name, "schema", "field", field_name, str(old_fields[field_name]["type"]), ""))
    for field_name in sorted(old_fields.keys() & new_fields.keys()):
        for prop in ("type", "unit"):
            before, after = old_fields[field_name].get(prop), new_fields[field_name].get(prop)
            if before != after:
                out.append(Change(name, "schema", prop, field_name, before or "", after or ""))
    old_key, new_key = old["schema"].get("primaryKey") or [], new["schema"].get("primaryKey") or []
    if list(old_key) != list(new_key):
        out.append(Change(name, "schema", "primaryKey", WHOLE_ROW, ", ".join(old_key), ", ".join(new_key)))
    return out


def _published_facilities(tables: Mapping[str, TableRows]) -> set[str] | None:
    if "facilities" not in tables:
        return None
    return {str(row["facility_id"]) for row in _rows(tables["facilities"])}


def compare_releases(
    previous_descriptor: Mapping[str, Any],
    previous_tables: Mapping[str, TableRows],
    current_descriptor: Mapping[str, Any],
    current_tables: Mapping[str, TableRows],
) -> ReleaseChanges:
    """Every change between two releases, in the order of the current release's resources."""
    skip = {r.name for r in (CHANGES,)}
    old_resources = {r["name"]: r for r in previous_descriptor["resources"] if r["name"] not in skip}
    new_resources = {r["name"]: r for r in current_descriptor["resources"] if r["name"] not in skip}
    result = ReleaseChanges()
    published = _published_facilities(current_tables)
    for name in new_resources:
        if name not in old_resources:
            result.added_resources.append(name)
            result.changes.append(Change(name, "schema", "resource", WHOLE_ROW, "", "resource added"))
    for name in old_resources:
        if name not in new_resources:
            result.removed_resources.append(name)
            result.changes.append(Change(name, "schema", "resource", WHOLE_ROW, "resource removed", ""))
    for name, new in new_resources.items():
        if name not in old_resources:
            continue
        old = old_resources[name]
        summary = ResourceSummary(name)
        result.summaries[name] = summary
        result.changes.extend(_schema_changes(name, old, new))
        key = list(new["schema"]["primaryKey"])
        if key != list(old["schema"]["primaryKey"]):
            summary.compared = False
            continue
        common = [f for f in _fields(new) if f in _fields(old) and f not in key]
        before = {tuple(row[k] for k in key): row for row in _rows(previous_tables[name])}
        after = {tuple(row[k] for k in key): row for row in _rows(current_tables[name])}

        def listable(values: tuple[Any, ...], key: list[str] = key) -> bool:
            if "facility_id" not in key or published is None:
                return True
            return str(values[key.index("facility_id")]) in published

        def order(values: tuple[Any, ...]) -> tuple[str, ...]:
            return tuple(format_cell(v) for v in values)

        for kind, keys in (
            ("added", after.keys() - before.keys()),
            ("removed", before.keys() - after.keys()),
        ):
            setattr(summary, kind, len(keys))
            for values in sorted(keys, key=order):
                if not listable(values):
                    summary.unlisted_rows += 1
                    continue
                result.changes.append(Change(name, kind, row_key_text(key, values), WHOLE_ROW, "", ""))
        for values in sorted(after.keys() & before.keys(), key=order):
            differing = [c for c in common if not _same(before[values][c], after[values][c])]
            if not differing:
                continue
            summary.changed_rows += 1
            summary.restated_values += len(differing)
            label = row_key_text(key, values)
            for column in differing:
                result.changes.append(
                    Change(
                        name,
                        "restated",
                        label,
                        column,
                        format_cell(before[values][column]),
                        format_cell(after[values][column]),
                    )
                )
    return result


def changes_table(changes: Sequence[Change]) -> pa.Table:
    """The `changes` resource as the writer publishes it, rows in the order computed."""
    schema = arrow_schema(CHANGES)
    return pa.Table.from_pylist([c.as_row() for c in changes], schema=schema)
