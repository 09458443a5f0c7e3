"""Publishable (`pub_*`) warehouse tables of the registry and reference resources.

Disclosure (`instep.disclosure`) produces the computed `pub_*` tables; the registry and reference tables
are built here: parks, the public facilities, the metric catalogue, the emission factors and the ZDHC
limits in long form. Last, the annual tables computed from published cells only (facility_annual,
programme_annual; see `instep.release.annual`). All are shaped exactly like their metadata resources.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from instep import reference
from instep.disclosure import build_publishable_tables
from instep.metadata.resources import EMISSION_FACTORS, FACILITIES, METRICS, PARKS, ZDHC_LIMITS
from instep.release.annual import build_annual_tables
from instep.release.tables import arrow_schema
from instep.settings import Settings

FUEL_PARAMETERS = (
    ("ncv", "ncv_mj_per_kg", "MJ/kg"),
    ("co2", "co2_kg_per_tj", "kg/TJ"),
    ("ch4", "ch4_kg_per_tj", "kg/TJ"),
    ("n2o", "n2o_kg_per_tj", "kg/TJ"),
    ("density", "density_kg_per_l", "kg/L"),
)


def emission_factor_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for fuel in reference.fuels().values():
        for parameter, attribute, unit in FUEL_PARAMETERS:
            value = getattr(fuel, attribute)
            if value is None:
                continue
            rows.append(
                {
                    "factor_id": f"fuel.{fuel.fuel}.{parameter}",
                    "kind": "fuel",
                    "subject": fuel.fuel,
                    "parameter": parameter,
                    "year": None,
                    "gwp_set": None,
                    "value": float(value),
                    "unit": unit,
                    "biogenic": fuel.biogenic,
                    "method": fuel.ipcc_category,
                    "source": fuel.source,
                }
            )
    for factor in reference.grid_factors():
        rows.append(
            {
                "factor_id": f"grid.{factor.country}.{factor.year}",
                "kind": "grid",
                "subject": factor.country,
                "parameter": "grid_co2",
                "year": factor.year,
                "gwp_set": None,
                "value": factor.t_co2_per_mwh,
                "unit": "t CO2/MWh",
                "biogenic": None,
                "method": factor.method,
                "source": factor.source,
            }
        )
    for row in reference.read_rows("gwp.csv"):
        for gwp_set in ("ar4", "ar5", "ar6"):
            rows.append(
                {
                    "factor_id": f"gwp.{row['gas']}.{gwp_set}",
                    "kind": "gwp",
                    "subject": row["gas"],
                    "parameter": "gwp",
                    "year": None,
                    "gwp_set": gwp_set,
                    "value": float(row[gwp_set]),
                    "unit": "kg CO2e/kg",
                    "biogenic": None,
                    "method": "100-year global warming potential",
                    "source": row["source"],
                }
            )
    return rows


def _limit_bounds(text: str, kind: str) -> tuple[float | None, float]:
    if kind == "range":
        low, high = text.split("-")
        return float(low), float(high)
    return None, float(text)


def zdhc_limit_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for limit in reference.zdhc_limits().values():
        for level in ("foundational", "progressive", "aspirational"):
            text = getattr(limit, level)
            low, high = _limit_bounds(text, limit.kind)
            rows.append(
                {
                    "parameter": limit.parameter,
                    "metric": limit.metric,
                    "unit": limit.unit,
                    "level": level,
                    "limit": text,
                    "kind": limit.kind,
                    "limit_min": low,
                    "limit_max": high,
                    "source": limit.source,
                }
            )
    return rows


def metric_rows() -> list[dict[str, Any]]:
    return [
        {
            "metric": m.code,
            "topic": m.topic,
            "canonical_unit": m.canonical_unit,
            "accepted_units": "|".join(m.accepted_units),
            "plausible_max_per_month": m.plausible_max_per_month,
            "sensitive": m.sensitive,
            "description": m.description,
        }
        for m in reference.metrics().values()
    ]


def _replace_table(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    con.register("pub_rows", table)
    try:
        con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM pub_rows')
    finally:
        con.unregister("pub_rows")


def build_reference_pub_tables(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """pub_parks, pub_facilities (public ones only), pub_metrics, pub_emission_factors, pub_zdhc_limits."""
    parks = ", ".join(f'"{f.name}"' for f in PARKS.fields)
    con.execute(f"CREATE OR REPLACE TABLE pub_parks AS SELECT {parks} FROM parks")
    facilities = ", ".join(f'"{f.name}"' for f in FACILITIES.fields)
    con.execute(
        f"CREATE OR REPLACE TABLE pub_facilities AS SELECT {facilities} FROM facilities "
        "WHERE disclosure = 'public'"
    )
    for resource, rows in (
        (METRICS, metric_rows()),
        (EMISSION_FACTORS, emission_factor_rows()),
        (ZDHC_LIMITS, zdhc_limit_rows()),
    ):
        _replace_table(con, f"pub_{resource.name}", pa.Table.from_pylist(rows, schema=arrow_schema(resource)))
    return {
        name: con.execute(f'SELECT count(*) FROM "pub_{name}"').fetchone()[0]
        for name in ("parks", "facilities", "metrics", "emission_factors", "zdhc_limits")
    }


def build_pub_tables(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, int]:
    """Every `pub_*` table but those computed from published tables (`FROM_PUBLISHED`: the scorecards
    publish theirs after scoring): disclosure's computed tables, then registry and reference, then the
    annual tables of published cells; returns the rows of each table built here."""
    built = {
        **build_publishable_tables(con, settings),
        **{f"pub_{name}": rows for name, rows in build_reference_pub_tables(con).items()},
    }
    built |= build_annual_tables(con)
    return {name.removeprefix("pub_"): rows for name, rows in sorted(built.items())}
