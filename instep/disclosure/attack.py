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


def interval(
    relations_: list[Relation], variables: list[Cell], residual: dict[Cell, float], target: Cell
) -> tuple[float, float]:
    """The reader's bounds on `target` from the relations, the known members' residuals and x >= 0."""
    index = {c: i for i, c in enumerate(variables)}
    a = np.zeros((len(relations_), len(variables)))
    b = np.zeros(len(relations_))
    for row, relation in enumerate(relations_):
        for cell, coef in relation.members:
            if cell in index:
                a[row, index[cell]] += coef
            else:
                b[row] -= coef * residual[cell]
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


def weak_cells(
    relations_: list[Relation],
    unknown: set[Cell],
    cells: Mapping[Cell, HiddenCell],
    levels: Mapping[Cell, float],
) -> list[WeakCell]:
    """Withheld cells with a protection level (`levels`) that the relations bound too tightly."""
    residual = {c: cell.residual for c, cell in cells.items()}
    out: list[WeakCell] = []
    for group, variables in components(relations_, unknown):
        targets = [c for c in variables if levels.get(c, 0.0) > 0]
        if not targets:
            continue
        # Every member unknown or a known zero: the true values times any t >= 0 fit the published
        # cells too, so each positive withheld value ranges over [0, infinity).
        if all(abs(residual[c]) <= 1e-9 for r in group for c, _ in r.members if c not in unknown):
            continue
        for target in targets:
            low, high = interval(group, variables, residual, target)
            if not rules.is_protected(residual[target], low, high, levels[target]):
                out.append(WeakCell(target, residual[target], low, high, levels[target], tuple(group)))
    return out
