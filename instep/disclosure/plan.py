"""Which park cells are withheld, and why: primary, secondary and derived suppression.

1. Primary: a cell whose hidden sum breaks a sensitivity rule (`rules.sensitivity`), or whose change since
   an earlier release that published it comes from too few hidden facilities.
2. Carried: a cell withheld in the latest release that no hidden facility has changed since stays withheld
   (with the rule it had), so that no release's pattern can be combined with another's.
3. Secondary: in every linear relation (`relations`) a withheld sensitive cell keeps room of at least its
   protection level against a reader outside and against each hidden facility (which knows its own
   values). Where it lacks room, the published member of the relation with the smallest hidden sum that
   gives enough is withheld too, and so on until every relation is settled. Cells an earlier release
   published unchanged are known to the reader and are never chosen.
4. Derived: every ratio or change whose inputs include a withheld cell.

Deterministic: cells are visited in sorted order and ties are broken by the cell's key, so the same
warehouse and the same earlier releases give the same plan.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb
import pyarrow as pa

from instep.disclosure import rules
from instep.disclosure.attack import weak_cells
from instep.disclosure.cells import (
    LEVEL_RESOURCES,
    MONTH,
    YEAR,
    Cell,
    HiddenCell,
    hidden_cells,
    hidden_cells_by_park,
)
from instep.disclosure.history import EarlierRelease, earlier_releases
from instep.disclosure.relations import Relation, relations
from instep.indicators.formulas import RATIOS, ratio_inputs
from instep.indicators.park import PARK_ADDITIVE
from instep.metadata.ledger import DISCLOSURE_WITHHELD
from instep.metadata.model import table_ddl

PLAN_TABLE = DISCLOSURE_WITHHELD.name
# Columns derived from other columns of the same annual row and the previous year's.
CHANGES = {
    "ghg_intensity_change_pct": "ghg_intensity_kg_co2e_per_kg",
    "water_intensity_change_pct": "water_intensity_l_per_kg",
}
DISPLAYS = {"grievances_gbv_received_display": "grievances_gbv_received"}
OUTSIDER = ""
# (resource, park_id, key, column, rule) of a withheld cell.
PlanRow = tuple[str, str, str, str, str]


@dataclass
class Plan:
    cells: dict[Cell, HiddenCell]
    withheld: dict[Cell, str] = field(default_factory=dict)
    sensitive: set[Cell] = field(default_factory=set)
    known: set[Cell] = field(default_factory=set)
    relations: list[Relation] = field(default_factory=list)

    def rows(self) -> list[PlanRow]:
        """(resource, park_id, key, column, rule) for every withheld cell, sorted."""
        return sorted(
            (LEVEL_RESOURCES[level], park, key, column, rule)
            for (park, level, key, column), rule in self.withheld.items()
        )


def _changed_since(cell: HiddenCell, release: EarlierRelease) -> list[str]:
    return sorted(f for f, seq in cell.last_file_seq.items() if seq > release.last_file_seq)


def _history(plan: Plan, earlier: list[EarlierRelease], params: rules.Parameters) -> None:
    """Restatement primaries, carried cells and the cells known from earlier releases."""
    latest = earlier[-1] if earlier else None
    for key, cell in plan.cells.items():
        for release in earlier:
            if key not in release.published:
                continue
            if cell.shows(release.published[key]):
                plan.known.add(key)
                continue
            changed = _changed_since(cell, release)
            # the reader subtracts the two releases: a change that only public facilities made is
            # theirs to see; one that few hidden facilities made is theirs alone
            if changed and len(changed) < params.min_contributors and key not in plan.withheld:
                plan.withheld[key] = rules.RESTATEMENT
                plan.sensitive.add(key)
        carried = latest is not None and key in latest.withheld and not _changed_since(cell, latest)
        if carried and key not in plan.withheld:
            # the rule it was withheld by: the same data released again reads the same
            plan.withheld[key] = latest.withheld[key]


def primary_plan(
    cells: dict[Cell, HiddenCell], earlier: list[EarlierRelease], params: rules.Parameters
) -> Plan:
    """The sensitive cells (primary rules and restatements), the carried ones and those already known."""
    plan = Plan(cells=cells)
    for key in sorted(cells):
        rule = rules.sensitivity(cells[key].contributions.values(), params)
        if rule is not None:
            plan.withheld[key] = rule
            plan.sensitive.add(key)
    _history(plan, earlier, params)
    return plan


def _need(cell: HiddenCell, attacker: str, params: rules.Parameters) -> float:
    """The room `attacker` must not be able to take away (0: nothing to protect from it)."""
    others = [abs(v) for f, v in cell.contributions.items() if f != attacker]
    return params.p * max(others, default=0.0)


def _room(plan: Plan, relation: Relation, target: Cell, coef: float, attacker: str) -> float:
    """Room above `target` within one relation: what the other withheld members hide from `attacker`."""
    room = 0.0
    for cell, other in relation.members:
        if cell == target or cell not in plan.withheld:
            continue
        if (other > 0) != (coef > 0):
            return float("inf")  # an opposite member absorbs any change: no bound from this relation
        hidden = plan.cells[cell]
        room += abs(other / coef) * (hidden.residual - hidden.contributions.get(attacker, 0.0))
    return room


def _shortfall(plan: Plan, relation: Relation, target: Cell, coef: float, params: rules.Parameters) -> float:
    """How much room `target` lacks in `relation`, against the worst-placed reader (0 when protected).

    A withheld cell that is not sensitive itself needs only not to be pinned: the relation must hide
    something else too, or it gives the cell back and, through it, whatever it protects.
    """
    if target not in plan.sensitive:
        return 0.0 if _room(plan, relation, target, coef, OUTSIDER) > 0 else float("inf")
    cell = plan.cells[target]
    attackers = {OUTSIDER} | {f for c, _ in relation.members for f in plan.cells[c].contributions}
    worst = 0.0
    for attacker in sorted(attackers):
        need = _need(cell, attacker, params)
        if need > 0:
            worst = max(worst, need - _room(plan, relation, target, coef, attacker))
    return worst


def _complement(
    plan: Plan, relation: Relation, target: Cell, coef: float, params: rules.Parameters
) -> Cell | None:
    """The published member to withhold for `target`: the smallest hidden sum that settles it, else the
    one that helps most."""
    candidates = [
        (cell, other)
        for cell, other in relation.members
        if cell != target
        and cell not in plan.withheld
        and cell not in plan.known
        and plan.cells[cell].residual > 0
    ]
    if not candidates:
        return None
    settling: list[tuple[float, Cell]] = []
    helping: list[tuple[float, Cell]] = []
    for cell, other in candidates:
        plan.withheld[cell] = rules.SECONDARY
        short = _shortfall(plan, relation, target, coef, params)
        del plan.withheld[cell]
        cost = abs(other) * plan.cells[cell].residual
        (settling if short <= 0 else helping).append((cost if short <= 0 else short, cell))
    if settling:
        return min(settling)[1]
    return min(helping)[1]


def _settle(plan: Plan, params: rules.Parameters, start: Iterable[Cell] | None = None) -> None:
    """Settle every relation of the withheld cells (of `start` only, when given) and of those it adds."""
    by_cell: dict[Cell, list[int]] = defaultdict(list)
    for i, relation in enumerate(plan.relations):
        for cell, _ in relation.members:
            by_cell[cell].append(i)
    first = plan.withheld if start is None else start
    queue = deque(sorted({i for c in first for i in by_cell.get(c, [])}))
    queued = set(queue)
    while queue:
        i = queue.popleft()
        queued.discard(i)
        relation = plan.relations[i]
        for target, coef in relation.members:
            if target not in plan.withheld or plan.cells[target].residual <= 0:
                continue
            while _shortfall(plan, relation, target, coef, params) > 0:
                chosen = _complement(plan, relation, target, coef, params)
                if chosen is None:
                    break  # nothing left to withhold here: the audit names the cell
                plan.withheld[chosen] = rules.SECONDARY
                for j in by_cell[chosen]:
                    if j not in queued:
                        queue.append(j)
                        queued.add(j)


@cache
def ratio_input_columns() -> tuple[tuple[str, frozenset[str]], ...]:
    return tuple((r.column, frozenset(ratio_inputs(r, PARK_ADDITIVE))) for r in RATIOS)


def _strengthen(plan: Plan, params: rules.Parameters, rounds: int = 100) -> None:
    """Withhold more where several relations together still bound a sensitive cell too tightly.

    Each relation alone leaves room (`_settle`); combined, a reader can do better, so the attack itself
    (`attack.weak_cells`) is run on the plan and, for each cell it bounds, the published member of its
    relations with the smallest hidden sum is withheld, until the attack finds nothing.
    """
    levels = protection_levels(plan, params)
    protected: set[frozenset[Cell]] = set()
    for _ in range(rounds):
        unknown = {c for c in plan.withheld if c in plan.cells and c not in plan.known}
        weak = weak_cells(plan.relations, unknown, plan.cells, levels, protected)
        if not weak:
            return
        added: list[Cell] = []
        for finding in weak:
            own = [r for r in finding.relations if any(c == finding.cell for c, _ in r.members)]
            for group in (own, finding.relations):
                candidates = sorted(
                    (abs(coef) * plan.cells[c].residual, c)
                    for r in group
                    for c, coef in r.members
                    if c not in plan.withheld and c not in plan.known and plan.cells[c].residual > 0
                )
                if candidates:
                    plan.withheld[candidates[0][1]] = rules.SECONDARY
                    added.append(candidates[0][1])
                    break
        if not added:
            return  # nothing left to withhold: the audit names the cells
        _settle(plan, params, added)


def secondary_suppression(plan: Plan, params: rules.Parameters) -> None:
    """Withhold published cells until no relation, alone or combined, bounds a sensitive cell too tightly."""
    _settle(plan, params)
    _strengthen(plan, params)


def _derived(withheld: dict[Cell, str]) -> dict[Cell, str]:
    """Ratios, changes and displays computed from a withheld cell of the same row (or the year before)."""
    rows: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for park, level, key, column in withheld:
        rows[(park, level, key)].add(column)
    out: dict[Cell, str] = {}
    for (park, level, key), columns in rows.items():
        for ratio, inputs in ratio_input_columns():
            if inputs & columns:
                out[(park, level, key, ratio)] = rules.DERIVED
        for display, source in DISPLAYS.items():
            if source in columns:
                out[(park, level, key, display)] = rules.DERIVED
    # A change against the previous year compares the months both years have: it rests on the monthly
    # cells of both years as well as on the annual intensity.
    inputs = dict(ratio_input_columns())
    for park, level, key, column in [*withheld, *out]:
        year = key if level == YEAR else key[:4]
        for change, intensity in CHANGES.items():
            if column == intensity or (level == MONTH and column in inputs[intensity]):
                out[(park, YEAR, year, change)] = rules.DERIVED
                out[(park, YEAR, str(int(year) + 1), change)] = rules.DERIVED
    return out


def plan_disclosure(
    con: duckdb.DuckDBPyConnection,
    package_dir: Path | None = None,
    params: rules.Parameters | None = None,
    earlier: Iterable[EarlierRelease] | None = None,
    park_id: str | None = None,
) -> Plan:
    """The suppression plan of the warehouse's park tables (of one park, or of all), given the releases
    already in `package_dir`."""
    params = params or rules.parameters()
    history = list(earlier) if earlier is not None else earlier_releases(package_dir)
    return _plan(con, hidden_cells(con, park_id), history, params)


def _plan(
    con: duckdb.DuckDBPyConnection,
    cells: dict[Cell, HiddenCell],
    history: list[EarlierRelease],
    params: rules.Parameters,
) -> Plan:
    plan = primary_plan(cells, history, params)
    plan.relations = relations(con, plan.cells)
    secondary_suppression(plan, params)
    plan.withheld.update({k: v for k, v in _derived(plan.withheld).items() if k not in plan.withheld})
    return plan


def withheld_rows(
    con: duckdb.DuckDBPyConnection,
    package_dir: Path | None = None,
    params: rules.Parameters | None = None,
) -> list[PlanRow]:
    """The plan's rows (`Plan.rows`), planned park by park: no relation joins two parks' cells, so each
    park's plan is the one of the whole warehouse, and only one park's contributions are held at a time
    (some millions at global scale)."""
    params = params or rules.parameters()
    history = earlier_releases(package_dir)
    rows: list[PlanRow] = []
    for _park_id, cells in hidden_cells_by_park(con):
        rows += _plan(con, cells, history, params).rows()
    return sorted(rows)


def protection_levels(plan: Plan, params: rules.Parameters | None = None) -> dict[Cell, float]:
    params = params or rules.parameters()
    return {
        c: rules.protection_level(list(plan.cells[c].contributions.values()), params) for c in plan.sensitive
    }


def store_plan(con: duckdb.DuckDBPyConnection, rows: list[PlanRow]) -> int:
    """Write the plan's rows to the warehouse table the publishable tables and the scorecards read."""
    con.execute(table_ddl(PLAN_TABLE, DISCLOSURE_WITHHELD.fields, DISCLOSURE_WITHHELD.primary_key))
    names = DISCLOSURE_WITHHELD.field_names
    table = pa.table({n: pa.array([r[i] for r in rows], pa.string()) for i, n in enumerate(names)})
    con.register("plan_rows", table)
    try:
        con.execute(f"INSERT INTO {PLAN_TABLE} SELECT * FROM plan_rows")
    finally:
        con.unregister("plan_rows")
    return len(rows)
