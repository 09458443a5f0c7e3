"""The reader's best bounds on withheld cells from the published ones: linear programming.

The unknowns are the withheld cells' hidden sums (never negative); every relation (`relations`) is an
equation between them and the published cells, whose hidden sums the reader can compute. The smallest and
largest value each withheld sensitive cell can take under those equations is what a reader can know of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from instep.disclosure import rules
from instep.disclosure.cells import Cell, HiddenCell
from instep.disclosure.relations import Relation


@dataclass(frozen=True)
class WeakCell:
    cell: Cell
    value: float
    low: float
    high: float
    level: float
    relations: tuple[Relation, ...]


def components(relations_: list[Relation], unknown: set[Cell]) -> list[tuple[list[Relation], list[Cell]]]:
    """Groups of relations linked through withheld members (each relation with at least one)."""
    parent: dict[Cell, Cell] = {}

    def find(c: Cell) -> Cell:
        while parent.setdefault(c, c) != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    involved = [r for r in relations_ if any(c in unknown for c, _ in r.members)]
    for relation in involved:
        cells = [c for c, _ in relation.members if c in unknown]
        for other in cells[1:]:
            parent[find(other)] = find(cells[0])
    groups: dict[Cell, tuple[list[Relation], set[Cell]]] = {}
    for relation in involved:
        cells = [c for c, _ in relation.members if c in unknown]
        group = groups.setdefault(find(cells[0]), ([], set()))
        group[0].append(relation)
        group[1].update(cells)
    return [(rels, sorted(cells)) for _, (rels, cells) in sorted(groups.items())]


def _system(
    relations_: list[Relation], variables: list[Cell], residual: Mapping[Cell, float]
) -> tuple[dict[Cell, int], np.ndarray, np.ndarray]:
    """A x = b over the withheld `variables`; published members move to b with their residuals."""
    index = {c: i for i, c in enumerate(variables)}
    a = np.zeros((len(relations_), len(variables)))
    b = np.zeros(len(relations_))
    for row, relation in enumerate(relations_):
        for cell, coef in relation.members:
            if cell in index:
                a[row, index[cell]] += coef
            else:
                b[row] -= coef * residual[cell]
    return index, a, b


def interval(
    relations_: list[Relation], variables: list[Cell], residual: Mapping[Cell, float], target: Cell
) -> tuple[float, float]:
    """The reader's bounds on `target` from the relations, the known members' residuals and x >= 0."""
    index, a, b = _system(relations_, variables, residual)
    objective = np.zeros(len(variables))
    objective[index[target]] = 1.0
    bounds = []
    for sign in (1.0, -1.0):
        result = linprog(sign * objective, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        if result.status == 3:  # unbounded
            bounds.append(float("inf") if sign < 0 else 0.0)
        elif result.status == 0:
            bounds.append(float(result.x[index[target]]))
        else:  # infeasible with rounding: treat the cell as pinned, the safe reading
            bounds.append(residual[target])
    low, high = bounds
    return low, high


def single_interval(
    relation: Relation, unknown: set[Cell], residual: Mapping[Cell, float], target: Cell
) -> tuple[float, float]:
    """`interval` for a component of one relation, in closed form.

    With a_t x_t = b - (the other withheld terms): another withheld member of the opposite sign lets
    x_t grow without bound, one of the same sign lets it fall to zero; alone, x_t = b / a_t.
    """
    coefs = {c: coef for c, coef in relation.members if c in unknown}
    b = -sum(coef * residual[c] for c, coef in relation.members if c not in unknown)
    own = coefs[target]
    alone = b / own
    others = [coef for c, coef in coefs.items() if c != target]
    opposite = any((coef > 0) != (own > 0) for coef in others)
    same = any((coef > 0) == (own > 0) for coef in others)
    return (0.0 if same else max(0.0, alone)), (float("inf") if opposite else alone)


def _certified(
    relations_: list[Relation],
    variables: list[Cell],
    residual: Mapping[Cell, float],
    targets: list[Cell],
    levels: Mapping[Cell, float],
    passes: int = 6,
) -> set[Cell]:
    """Targets shown protected with a few joint programmes instead of two each.

    One point of the feasible set lifts every target to its value plus its level where it can, one lowers
    each to its value minus its level (or zero); a target both points reach is protected. Targets that
    compete (two months of one published year cannot both rise) are tried again among themselves; what
    is left after a few passes is checked one by one.
    """
    index, a, b = _system(relations_, variables, residual)
    lifted_ok: set[Cell] = set()
    lowered_ok: set[Cell] = set()
    for _ in range(passes):
        progress = False
        for ok, lift in ((lifted_ok, True), (lowered_ok, False)):
            remaining = [t for t in targets if t not in ok]
            if not remaining:
                continue
            weights = np.zeros(len(variables))
            bounds: list[tuple[float, float | None]] = [(0.0, None)] * len(variables)
            for t in remaining:
                weights[index[t]] = 1.0 / max(levels[t], 1e-9)
                if lift:
                    bounds[index[t]] = (0.0, residual[t] + levels[t])
            result = linprog(-weights if lift else weights, A_eq=a, b_eq=b, bounds=bounds, method="highs")
            if result.status != 0:
                continue
            for t in remaining:
                value, level, x = residual[t], levels[t], result.x[index[t]]
                slack = 1e-6 * max(1.0, abs(value))
                reached = x >= value + level - slack if lift else x <= max(0.0, value - level) + slack
                if reached:
                    ok.add(t)
                    progress = True
        if not progress:
            break
    return lifted_ok & lowered_ok


def weak_cells(
    relations_: list[Relation],
    unknown: set[Cell],
    cells: Mapping[Cell, HiddenCell],
    levels: Mapping[Cell, float],
    protected: set[frozenset[Cell]] | None = None,
) -> list[WeakCell]:
    """Withheld cells with a protection level (`levels`) that the relations bound too tightly.

    `protected` remembers components (by their withheld cells) found without a weak cell, so that a
    caller adding suppressions round after round re-examines only the components that changed.
    """
    residual = {c: cell.residual for c, cell in cells.items()}
    out: list[WeakCell] = []
    for group, variables in components(relations_, unknown):
        signature = frozenset(variables)
        if protected is not None and signature in protected:
            continue
        found = len(out)
        targets = [c for c in variables if levels.get(c, 0.0) > 0]
        if not targets:
            continue
        # Every member unknown or a known zero: the true values times any t >= 0 fit the published
        # cells too, so each positive withheld value ranges over [0, infinity).
        if all(abs(residual[c]) <= 1e-9 for r in group for c, _ in r.members if c not in unknown):
            continue
        certified = _certified(group, variables, residual, targets, levels) if len(group) > 1 else set()
        for target in targets:
            if target in certified:
                continue
            if len(group) == 1:
                low, high = single_interval(group[0], unknown, residual, target)
            else:
                low, high = interval(group, variables, residual, target)
            if not rules.is_protected(residual[target], low, high, levels[target]):
                out.append(WeakCell(target, residual[target], low, high, levels[target], tuple(group)))
        if protected is not None and len(out) == found:
            protected.add(signature)
    return out
