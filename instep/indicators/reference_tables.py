"""Reference data as DuckDB tables for the indicator SQL: fuel factors, GWPs, grid factors, ZDHC limits.

Every number comes from `instep.reference` (the CSV files with their sources); these tables only reshape
them for joining. They are temporary: they live on the connection that computes the indicators.
"""

from __future__ import annotations

import duckdb

from instep import reference

ZDHC_LEVEL_ORDER = ("foundational", "progressive", "aspirational")


def generic_factor(from_unit: str, to_unit: str) -> float:
    """A unit conversion from `reference/units.csv` (e.g. kWh to GJ)."""
    for row in reference.read_rows("units.csv"):
        if row["from_unit"] == from_unit and row["to_unit"] == to_unit:
            return float(row["factor"])
    raise LookupError(f"units.csv has no conversion from {from_unit} to {to_unit}")


def kg_per_unit(fuel: reference.Fuel, unit: str) -> float | None:
    """Kilograms in one `unit` of the fuel (None when the unit is not a mass or volume)."""
    mass = {"kg": 1.0, "t": generic_factor("t", "kg")}
    if unit in mass:
        return mass[unit]
    if fuel.density_kg_per_l is not None and unit in ("L", "m3"):
        litres = 1.0 if unit == "L" else generic_factor("m3", "L")
        return fuel.density_kg_per_l * litres
    return None


def gj_per_canonical_unit(fuel: reference.Fuel) -> float:
    """Energy (GJ, net calorific value) in one canonical unit of the fuel's metric."""
    canonical = reference.metrics()[fuel.metric].canonical_unit
    if canonical == "GJ":
        return 1.0
    kilograms = kg_per_unit(fuel, canonical)
    if kilograms is None:
        raise LookupError(f"{fuel.metric}: no way from {canonical} to GJ")
    return kilograms * fuel.ncv_mj_per_kg * generic_factor("MJ", "GJ")


def parse_limit(text: str, kind: str) -> tuple[float | None, float]:
    """(low, high) of a ZDHC limit: a maximum ('0.05') or an inclusive range ('6-9')."""
    if kind == "range":
        low, high = text.split("-")
        return float(low), float(high)
    return None, float(text)


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[list[object]]) -> None:
    """All rows in one INSERT with bound parameters (a statement per row costs a millisecond each)."""
    if not rows:
        return
    row = "(" + ", ".join("?" * len(rows[0])) + ")"
    con.execute(f"INSERT INTO {table} VALUES " + ", ".join([row] * len(rows)), [v for r in rows for v in r])


def register_reference_tables(con: duckdb.DuckDBPyConnection, gwp_set: str) -> None:
    gwp = reference.gwp(gwp_set)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE ref_fuel_factors (
            metric VARCHAR PRIMARY KEY, fuel VARCHAR, biogenic BOOLEAN, gj_per_unit DOUBLE,
            co2_kg_per_tj DOUBLE, ch4_kg_per_tj DOUBLE, n2o_kg_per_tj DOUBLE,
            gwp_co2 DOUBLE, gwp_ch4 DOUBLE, gwp_n2o DOUBLE)
        """
    )
    insert_rows(
        con,
        "ref_fuel_factors",
        [
            [
                fuel.metric,
                fuel.fuel,
                fuel.biogenic,
                gj_per_canonical_unit(fuel),
                fuel.co2_kg_per_tj,
                fuel.ch4_kg_per_tj,
                fuel.n2o_kg_per_tj,
                gwp["CO2"],
                gwp["CH4"],
                gwp["N2O"],
            ]
            for fuel in reference.fuels().values()
        ],
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE ref_grid_factors "
        "(country VARCHAR, year INTEGER, t_co2_per_mwh DOUBLE, PRIMARY KEY (country, year))"
    )
    insert_rows(
        con,
        "ref_grid_factors",
        [[g.country, g.year, g.t_co2_per_mwh] for g in reference.grid_factors()],
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE ref_zdhc_limits (
            metric VARCHAR, parameter VARCHAR, unit VARCHAR, kind VARCHAR, level VARCHAR,
            limit_text VARCHAR, low DOUBLE, high DOUBLE, PRIMARY KEY (metric, level))
        """
    )
    rows = []
    for limit in reference.zdhc_limits().values():
        for level in ZDHC_LEVEL_ORDER:
            text = getattr(limit, level)
            low, high = parse_limit(text, limit.kind)
            rows.append([limit.metric, limit.parameter, limit.unit, limit.kind, level, text, low, high])
    insert_rows(con, "ref_zdhc_limits", rows)
