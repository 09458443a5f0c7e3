"""Conversion of submitted values to each metric's canonical unit.

Generic conversions come from `reference/units.csv`; fuel-specific ones (litres of a fuel to kilograms,
kilograms of gas to gigajoules) are derived from the density and net calorific value in `fuels.csv`.
The result is one table, `unit_factors()`, which ingestion joins in SQL and the methodology page prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from instep import reference


@dataclass(frozen=True)
class UnitFactor:
    metric: str
    unit: str
    canonical_unit: str
    factor: float  # canonical value = submitted value x factor
    derivation: str


class UnknownConversion(LookupError):
    pass


def _generic_factors() -> dict[tuple[str, str], tuple[float, str]]:
    return {
        (row["from_unit"], row["to_unit"]): (float(row["factor"]), row["source"])
        for row in reference.read_rows("units.csv")
    }


def _fuel_factor(metric: str, unit: str, canonical: str) -> tuple[float, str] | None:
    fuel = next((f for f in reference.fuels().values() if f.metric == metric), None)
    if fuel is None:
        return None
    to_kg = {"kg": 1.0, "t": 1000.0}
    if fuel.density_kg_per_l is not None:
        to_kg.update({"L": fuel.density_kg_per_l, "m3": fuel.density_kg_per_l * 1000.0})
    if unit not in to_kg:
        return None
    kg = to_kg[unit]
    if canonical in to_kg:
        uses_volume = {unit, canonical} & {"L", "m3"}
        how = f"density {fuel.density_kg_per_l} kg/L" if uses_volume else "mass"
        return kg / to_kg[canonical], f"via kg ({how}; fuels.csv)"
    if canonical == "GJ":
        factor = kg * fuel.ncv_mj_per_kg / 1000.0
        return factor, f"net calorific value {fuel.ncv_mj_per_kg} MJ/kg (fuels.csv)"
    return None


def factor_for(metric: str, unit: str) -> UnitFactor:
    """How to turn a value of `metric` submitted in `unit` into the canonical unit."""
    catalogue = reference.metrics()
    if metric not in catalogue:
        raise UnknownConversion(f"unknown metric {metric!r}")
    entry = catalogue[metric]
    canonical = entry.canonical_unit
    if unit not in entry.accepted_units:
        raise UnknownConversion(
            f"unit {unit!r} is not accepted for {metric}; expected one of " + ", ".join(entry.accepted_units)
        )
    if unit == canonical:
        return UnitFactor(metric, unit, canonical, 1.0, "canonical unit")
    fuel = _fuel_factor(metric, unit, canonical)
    if fuel is not None:
        return UnitFactor(metric, unit, canonical, fuel[0], fuel[1])
    generic = _generic_factors().get((unit, canonical))
    if generic is None:
        raise UnknownConversion(f"no conversion from {unit} to {canonical} for {metric}")
    return UnitFactor(metric, unit, canonical, generic[0], generic[1])


@cache
def unit_factors() -> tuple[UnitFactor, ...]:
    """Every accepted (metric, unit) pair with its factor to the canonical unit."""
    return tuple(
        factor_for(metric.code, unit)
        for metric in reference.metrics().values()
        for unit in metric.accepted_units
    )


def to_canonical(metric: str, value: float, unit: str) -> float:
    return value * factor_for(metric, unit).factor
