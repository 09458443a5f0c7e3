"""The attack every release must survive before it is published.

The audit reads the staged release files as a reader would and knows, from the warehouse, who is hidden
inside every park cell. It tries what a reader can try:

- subtraction: a sensitive cell (primary rules, or a change since an earlier release) that is published;
- ratios: a published ratio, change or display computed from a withheld cell of its row;
- linear relations: for every withheld sensitive cell, the smallest and largest value the published cells
  of this and every earlier release allow (months add up to the year, the identities between columns,
  amounts are never negative), by linear programming; the interval must keep the cell's protection level
  on both sides (`rules.is_protected`).

Any finding stops the release and names the cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from instep.disclosure import rules
from instep.disclosure.attack import weak_cells
from instep.disclosure.cells import LEVEL_RESOURCES, MONTH, YEAR, Cell, hidden_cells_by_park
from instep.disclosure.history import KEYS, EarlierRelease, earlier_releases
from instep.disclosure.plan import CHANGES, DISPLAYS, primary_plan, protection_levels, ratio_input_columns
from instep.disclosure.relations import relations
from instep.rubric import load_rubric

SHOWN_LIMIT = 20


@dataclass(frozen=True)
class Finding:
    cell: Cell
    attack: str
    detail: str

    def __str__(self) -> str:
        park, level, key, column = self.cell
        return f"{LEVEL_RESOURCES[level]} {park} {key} {column}: {self.attack} ({self.detail})"


class DisclosureLeak(Exception):
    """A staged release would let a reader compute a hidden facility's figures."""

    def __init__(self, findings: list[Finding]):
        self.findings = findings
        shown = "; ".join(str(f) for f in findings[:SHOWN_LIMIT])
        more = f" and {len(findings) - SHOWN_LIMIT} more" if len(findings) > SHOWN_LIMIT else ""
        super().__init__(
            f"disclosure audit: {len(findings)} cell(s) would reveal figures of facilities that do not "
            f"publish their own: {shown}{more}; the release is not published"
        )


@dataclass
class PublishedRows:
    """The park rows of a staged release: (park, level, key) -> column -> value, and the withheld columns."""

    values: dict[tuple[str, str, str], dict[str, object]]
    withheld: dict[tuple[str, str, str], set[str]]

    def published(self, cell: Cell) -> bool:
        row = cell[:3]
        return (
            row in self.values
            and cell[3] not in self.withheld.get(row, set())
            and self.values[row].get(cell[3]) is not None
        )

    def is_withheld(self, cell: Cell) -> bool:
        return cell[3] in self.withheld.get(cell[:3], set())


def read_published(release_dir: Path) -> PublishedRows:
    values: dict[tuple[str, str, str], dict[str, object]] = {}
    withheld: dict[tuple[str, str, str], set[str]] = {}
    for level in (MONTH, YEAR):
        path = release_dir / "data" / f"{LEVEL_RESOURCES[level]}.parquet"
        if not path.exists():
            continue
        for row in pq.read_table(path).to_pylist():
            key = (row["park_id"], level, str(row[KEYS[level]]))
            values[key] = row
            withheld[key] = rules.withheld_fields(row.get("suppressed_fields"))
    return PublishedRows(values, withheld)


def _ratio_findings(rows: PublishedRows) -> list[Finding]:
    out: list[Finding] = []
    derived = {column: set(inputs) for column, inputs in ratio_input_columns()}
    derived.update({display: {source} for display, source in DISPLAYS.items()})
    # the months of each park-year that withhold an input of an intensity, for the changes
    monthly_withheld: dict[tuple[str, str], set[str]] = {}
    for (park, level, key), columns in rows.withheld.items():
        if level == MONTH:
            monthly_withheld.setdefault((park, key[:4]), set()).update(columns)
    for row_key, row in sorted(rows.values.items()):
        hidden = rows.withheld[row_key]
        for column, inputs in sorted(derived.items()):
            if row.get(column) is not None and inputs & hidden:
                out.append(
                    Finding((*row_key, column), "ratio", f"computed from withheld {sorted(inputs & hidden)}")
                )
        if row_key[1] != YEAR:
            continue
        park, year = row_key[0], row_key[2]
        for change, intensity in CHANGES.items():
            if row.get(change) is None:
                continue
            previous = str(int(year) - 1)
            rests_on = set(rows.withheld.get((park, YEAR, previous), set())) | hidden
            months = monthly_withheld.get((park, year), set()) | monthly_withheld.get((park, previous), set())
            if intensity in rests_on or derived[intensity] & months:
                out.append(Finding((*row_key, change), "ratio", f"computed from withheld {intensity} inputs"))
    return out


def _scorecard_findings(release_dir: Path, rows: PublishedRows) -> list[Finding]:
    """A scorecard value or score of an indicator whose park_annual value is withheld."""
    path = release_dir / "data" / "scorecards.parquet"
    if not path.exists():
        return []
    out: list[Finding] = []
    columns: dict[tuple[int, str], str] = {}
    for card in pq.read_table(path).to_pylist():
        version = int(card["rubric_version"])
        if (version, card["component"]) not in columns:
            columns.update({(version, item.indicator): item.column for item in load_rubric(version)})
        column = columns.get((version, card["component"]))
        row_key = (card["park_id"], YEAR, str(card["year"]))
        shown = card["value"] is not None or card["score"] is not None
        if column and column in rows.withheld.get(row_key, set()) and shown:
            out.append(Finding((*row_key, column), "scorecard", f"{card['component']} shows it"))
    return out


def audit_release(
    con: duckdb.DuckDBPyConnection,
    release_dir: Path,
    package_dir: Path | None,
    params: rules.Parameters | None = None,
    earlier: list[EarlierRelease] | None = None,
) -> list[Finding]:
    """Every way the staged release in `release_dir` reveals a hidden contribution (empty: none)."""
    staged = [release_dir / "data" / f"{name}.parquet" for name in LEVEL_RESOURCES.values()]
    if not any(path.exists() for path in staged):
        return []  # a release without park tables hides nobody inside a total
    params = params or rules.parameters()
    history = earlier if earlier is not None else earlier_releases(package_dir)
    rows = read_published(release_dir)
    published: list[Finding] = []
    bounded: list[Finding] = []
    # Park by park, as the plan is made: no relation joins two parks' cells, and one park's hidden
    # contributions are in memory at a time.
    for _park_id, cells in hidden_cells_by_park(con):
        truth = primary_plan(cells, history, params)
        published += [
            Finding(cell, "published", rules.reason_text(truth.withheld[cell], params))
            for cell in sorted(truth.sensitive)
            if rows.published(cell)
        ]
        unknown = {c for c in truth.cells if rows.is_withheld(c) and c not in truth.known}
        levels = protection_levels(truth, params)
        for weak in weak_cells(relations(con, truth.cells), unknown, truth.cells, levels):
            bounded.append(
                Finding(
                    weak.cell,
                    "linear relations",
                    f"bounded to [{weak.low:.6g}, {weak.high:.6g}] for a value of {weak.value:.6g}, "
                    f"protection {weak.level:.6g}",
                )
            )
    findings = [*published, *_ratio_findings(rows), *_scorecard_findings(release_dir, rows), *bounded]
    return sorted(findings, key=lambda f: f.cell)  # stable: a cell's findings keep their order


def check_release(
    con: duckdb.DuckDBPyConnection, release_dir: Path, package_dir: Path | None, version: str
) -> None:
    """Raise DisclosureLeak naming every cell of the staged release that a reader could uncover."""
    earlier = [r for r in earlier_releases(package_dir) if r.version != version]
    findings = audit_release(con, release_dir, package_dir, earlier=earlier)
    if findings:
        raise DisclosureLeak(findings)
