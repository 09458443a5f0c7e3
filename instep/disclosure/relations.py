"""The linear relations between park cells that a reader can use to compute a withheld one.

Two kinds, both derived from the indicator definitions: a year is the sum of its months (month-end counts:
their mean over the months with data), and the identities of `instep.indicators.formulas` (total energy
is fuel energy plus electricity plus purchased steam, Scope 2 is grid electricity times the grid factor,
...). Ratios are not relations here: a ratio is withheld whenever one of its inputs is.

Each relation is written over residuals (hidden sums): what the published facilities contribute is known
to the reader, so it cancels. Members without a hidden contribution are known zeros and are left out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import duckdb

from instep.disclosure.cells import MONTH, YEAR, Cell, HiddenCell, months_with_data, parks_filter
from instep.indicators.formulas import COEFFICIENT_COLUMNS, IDENTITIES, STOCKS


@dataclass(frozen=True)
class Relation:
    """sum(coefficient x residual) == 0 over the members."""

    kind: str  # "months" or the identity's total column
    members: tuple[tuple[Cell, float], ...]


def _coefficients(
    con: duckdb.DuckDBPyConnection, parks: list[str]
) -> dict[tuple[str, str, str], dict[str, float]]:
    """(park_id, level, key) -> value of each coefficient column of that park row (of `parks`)."""
    names = list(COEFFICIENT_COLUMNS)
    select = ", ".join(f"{sql} AS {name}" for name, sql in COEFFICIENT_COLUMNS.items())
    where, params = parks_filter(parks)
    out: dict[tuple[str, str, str], dict[str, float]] = {}
    for level, table, key in ((MONTH, "out_park_monthly", "period"), (YEAR, "out_park_annual", "year")):
        query = f"SELECT park_id, CAST({key} AS VARCHAR), {select} FROM {table} {where}"
        for row in con.execute(query, params).fetchall():
            out[(row[0], level, row[1])] = {
                n: float(v) for n, v in zip(names, row[2:], strict=True) if v is not None
            }
    return out


def _coefficient(part: float | str, values: dict[str, float]) -> float | None:
    if not isinstance(part, str):
        return part
    sign = -1.0 if part.startswith("-") else 1.0
    value = values.get(part.lstrip("-"))
    return None if value is None else sign * value


def _holds(members: list[tuple[Cell, float]], cells: dict[Cell, HiddenCell]) -> bool:
    terms = [coef * cells[c].residual for c, coef in members]
    return abs(sum(terms)) <= 1e-7 * max(1.0, sum(abs(t) for t in terms))


def relations(con: duckdb.DuckDBPyConnection, cells: dict[Cell, HiddenCell]) -> list[Relation]:
    """Every relation with at least one hidden member, in a deterministic order.

    An identity that the true residuals do not satisfy (it holds per facility only when, say, a renewable
    contract does not exceed the grid electricity) is left out: it cannot pin anything exactly.
    """
    out: list[Relation] = []
    # The cells of one park (as the plan gives them) need that park's rows only.
    parks = sorted({cell[0] for cell in cells})
    divisors = months_with_data(con, parks)
    months: dict[tuple[str, str, str], list[Cell]] = defaultdict(list)
    for cell in cells:
        park_id, level, key, column = cell
        if level == MONTH:
            months[(park_id, key[:4], column)].append(cell)
    for (park_id, year, column), month_cells in sorted(months.items()):
        year_cell = (park_id, YEAR, year, column)
        weight = float(divisors.get((park_id, year, column), 1)) if column in STOCKS else 1.0
        members = [(c, -1.0) for c in sorted(month_cells)]
        if year_cell in cells:
            members.append((year_cell, weight))
        out.append(Relation("months", tuple(members)))
    coefficients = _coefficients(con, parks)
    rows = sorted({(c[0], c[1], c[2]) for c in cells})
    for row in rows:
        for identity in IDENTITIES:
            members: list[tuple[Cell, float]] = [((*row, identity.total), 1.0)]
            complete = True
            for column, part in identity.parts:
                coef = _coefficient(part, coefficients.get(row, {}))
                if coef is None:
                    complete = False
                    break
                members.append(((*row, column), -coef))
            hidden = [(c, coef) for c, coef in members if c in cells]
            if complete and hidden and _holds(hidden, cells):
                out.append(Relation(identity.total, tuple(hidden)))
    return out
