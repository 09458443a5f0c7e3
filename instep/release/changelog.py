"""CHANGELOG.md: what changed since the previous release, summarised from the `changes` resource.

Per resource the rows added, removed and restated, then the first changes themselves (the rest are in
`data/changes.csv`), numbers rounded to their column's precision. Restatements by facilities published
only in aggregates are counted, never named.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from instep.metadata.model import Field, Resource
from instep.release.cells import format_number
from instep.release.changes import Change, ReleaseChanges

Rows = list[dict[str, Any]]
# A resource's rows: Arrow tables as the writer holds them, turned into Python rows only when compared.
TableRows = Rows | pa.Table


@dataclass(frozen=True)
class Snapshot:
    """A release as the changelog sees it: its descriptor and the rows of every resource."""

    version: str
    descriptor: Mapping[str, Any]
    tables: Mapping[str, TableRows]


def load_snapshot(release_dir: Path) -> Snapshot:
    descriptor = json.loads((release_dir / "datapackage.json").read_text(encoding="utf-8"))
    tables = {r["name"]: pq.read_table(release_dir / r["parquet"]["path"]) for r in descriptor["resources"]}
    return Snapshot(version=descriptor["version"], descriptor=descriptor, tables=tables)


# Decimal places a changed number is shown with, by its column's unit; other units get DEFAULT_DECIMALS.
UNIT_DECIMALS: dict[str, int] = {
    "%": 1,
    "count": 0,
    "persons": 0,
    "pcs": 0,
    "days": 0,
    "kWh": 1,
    "kg": 0,
    "m3": 1,
    "h": 0,
    "GJ": 2,
    "t CO2e": 3,
    "t CO2": 3,
    "t CO2/MWh": 4,
    "kg CO2e/kg": 3,
    "MJ/kg": 2,
    "L/kg": 1,
    "ratio": 3,
    "degree": 4,
}
DEFAULT_DECIMALS = 3
# Changes listed in the changelog itself; all of them are in the `changes` resource.
LISTED_CHANGES = 50
# The section listing each row added or removed and each value restated (the site shows it too).
CHANGED_ROWS_SECTION = "Changed rows and values"
# The section counting, per resource, the rows added, removed and changed.
ROWS_SECTION = "Rows"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def shown_value(text: str, field: Field | None) -> str:
    """A value of the `changes` resource as the changelog shows it: numbers at their column's precision."""
    if field is None or field.type != "number" or text == "":
        return text
    try:
        value = float(text)
    except ValueError:
        return text
    decimals = UNIT_DECIMALS.get(field.unit or "", DEFAULT_DECIMALS)
    return format_number(round(value, decimals))


def _field(resources: Mapping[str, Resource], resource: str, column: str) -> Field | None:
    spec = resources.get(resource)
    if spec is None or column not in spec.field_names:
        return None
    return spec.field(column)


def render_changelog(
    *,
    package_name: str,
    version: str,
    release_date: date,
    previous_version: str | None,
    changes: ReleaseChanges | None,
    row_counts: Mapping[str, int],
    resources: Sequence[Resource],
    aggregate_only_restatements: int | None = None,
    listed: int = LISTED_CHANGES,
) -> str:
    """The Markdown changelog; `changes` is None for a first release."""
    order = [r.name for r in resources]
    lines = [f"# Changelog of {package_name} {version}", "", f"Released {release_date.isoformat()}.", ""]
    if previous_version is None or changes is None:
        lines += ["First release: every resource is new.", "", "| resource | rows |", "|---|---:|"]
        lines += [f"| {n} | {row_counts[n]} |" for n in order]
        return "\n".join(lines) + "\n"
    by_name = {r.name: r for r in resources}
    lines += [f"Changes since release {previous_version}.", "", "## Schema", ""]
    schema = changes.of_kind("schema")
    lines += [_schema_line(c) for c in schema] or ["No schema changes."]
    lines += [
        "",
        f"## {ROWS_SECTION}",
        "",
        "| resource | rows | added | removed | changed | values restated |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in order:
        summary = changes.summaries.get(name)
        rows = row_counts[name]
        if summary is None:
            lines.append(f"| {name} | {rows} | {rows} (new resource) | | | |")
        elif not summary.compared:
            lines.append(f"| {name} | {rows} | primary key changed: rows not compared | | | |")
        else:
            lines.append(
                f"| {name} | {rows} | {summary.added} | {summary.removed} | {summary.changed_rows} | "
                f"{summary.restated_values} |"
            )
    unlisted = sum(s.unlisted_rows for s in changes.summaries.values())
    if unlisted:
        lines += [
            "",
            f"Rows of facilities no longer published individually: {unlisted} (counted in the table, not "
            "listed).",
        ]
    lines += ["", f"## {CHANGED_ROWS_SECTION}", ""]
    rows_and_values = changes.of_kind("added", "removed", "restated")
    if rows_and_values:
        shown = rows_and_values[:listed]
        lines += [
            f"{len(rows_and_values)} changes (old -> new; numbers rounded to their column's precision)"
            + (
                f", the first {len(shown)} listed here; all of them, unrounded, in the resource `changes` "
                "(data/changes.csv)."
                if len(shown) < len(rows_and_values)
                else "; unrounded in the resource `changes` (data/changes.csv)."
            ),
            "",
            "| resource | change | row | column | old | new |",
            "|---|---|---|---|---:|---:|",
        ]
        for c in shown:
            spec = _field(by_name, c.resource, c.column)
            lines.append(
                f"| {c.resource} | {c.kind} | {_md(c.row_key)} | {_md(c.column)} | "
                f"{_md(shown_value(c.old, spec))} | {_md(shown_value(c.new, spec))} |"
            )
    else:
        lines.append("No rows were added or removed and no published values were restated.")
    if aggregate_only_restatements is not None:
        lines += [
            "",
            f"Restatements received from facilities published only in park aggregates: "
            f"{aggregate_only_restatements} (counted, not listed; they change park totals only).",
        ]
    return "\n".join(lines) + "\n"


def _schema_line(change: Change) -> str:
    if change.row_key == "resource":
        return f"- resource `{change.resource}` {change.new or change.old}"
    if change.row_key == "field":
        if change.new:
            return f"- `{change.resource}`: field `{change.column}` added ({change.new})"
        return f"- `{change.resource}`: field `{change.column}` removed"
    if change.row_key == "primaryKey":
        return f"- `{change.resource}`: primary key [{change.old}] -> [{change.new}]"
    return (
        f"- `{change.resource}`: field `{change.column}`: {change.row_key} {change.old or '(none)'} -> "
        f"{change.new or '(none)'}"
    )
