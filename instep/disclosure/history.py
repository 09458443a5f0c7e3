"""What earlier releases published: every version stays downloadable, so a reader holds all of them.

For each earlier release: which park cells it published and which it withheld, and the last submission
file it contained (its provenance). A hidden facility whose accepted rows for a cell's months all come
from files up to that point has not changed the cell since.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from instep.disclosure.cells import LEVEL_RESOURCES, MONTH, YEAR, Cell
from instep.disclosure.rules import CARRIED, PERSONS, withheld_entries, withheld_fields
from instep.indicators.park import PARK_ADDITIVE

KEYS = {MONTH: "period", YEAR: "year"}


@dataclass(frozen=True)
class EarlierRelease:
    version: str
    last_file_seq: int
    published: dict[Cell, float]  # -> the value it showed
    withheld: dict[Cell, str]  # -> the rule it was withheld by


def _rules(text: str | None) -> dict[str, str]:
    """column -> the rule of the suppression plan that withheld it (the persons rule is not the plan's:
    it follows from the row's own counts every time)."""
    out: dict[str, str] = {}
    for column, rule in withheld_entries(text):
        if rule != PERSONS:
            out.setdefault(column, rule)
    return out


def _cells(release_dir: Path, level: str) -> tuple[dict[Cell, float], dict[Cell, str]]:
    path = release_dir / "data" / f"{LEVEL_RESOURCES[level]}.parquet"
    published: dict[Cell, float] = {}
    withheld: dict[Cell, str] = {}
    if not path.exists():
        return published, withheld
    table = pq.read_table(path)
    present = [c for c in PARK_ADDITIVE if c in table.column_names]
    reasons = ["suppression_rules"] if "suppression_rules" in table.column_names else []
    rows = table.select(["park_id", KEYS[level], "suppressed_fields", *reasons, *present]).to_pylist()
    for row in rows:
        key = str(row[KEYS[level]])
        suppressed = withheld_fields(row["suppressed_fields"])
        rules_by_column = _rules(row.get("suppression_rules")) if reasons else None
        for column in present:
            cell = (row["park_id"], level, key, column)
            if column in suppressed:
                if rules_by_column is None:
                    withheld[cell] = CARRIED
                elif column in rules_by_column:
                    withheld[cell] = rules_by_column[column]
            elif row[column] is not None:
                published[cell] = float(row[column])
    return published, withheld


def earlier_releases(package_dir: Path | None) -> list[EarlierRelease]:
    """The releases published so far in `package_dir`, oldest first (none without a directory)."""
    if package_dir is None or not package_dir.exists():
        return []
    # Imported here: the release package imports disclosure control, not the other way round.
    from instep import package_index as index

    out: list[EarlierRelease] = []
    for record in index.read_index(package_dir):
        release_dir = package_dir / record["version"]
        descriptor_path = release_dir / "datapackage.json"
        if not descriptor_path.exists():
            continue
        descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
        submissions = (descriptor.get("provenance") or {}).get("submissions") or {}
        published: dict[Cell, float] = {}
        withheld: dict[Cell, str] = {}
        for level in (MONTH, YEAR):
            p, w = _cells(release_dir, level)
            published.update(p)
            withheld.update(w)
        out.append(
            EarlierRelease(
                version=record["version"],
                last_file_seq=int(submissions.get("last_file_seq") or 0),
                published=published,
                withheld=withheld,
            )
        )
    return out
