"""The indicator formulas, written once: the SQL the tables are computed with and the text the
methodology page prints come from the same definitions below.

Amounts are summed (facility -> park -> year); every ratio is then computed from the sums by the same
expression at every level, so a park's ratio is a ratio of sums, never a mean of facility ratios.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from instep import reference
from instep.indicators.reference_tables import generic_factor
from instep.metadata.resources import MIN_PERSONS

# Rates per this many hours worked (ILO / GRI 403-9 conventions).
LTIFR_HOURS = 1_000_000
TRIR_HOURS = 200_000
KWH_TO_GJ = generic_factor("kWh", "GJ")

# Sums are taken in fixed-point decimals: a sum of doubles depends on the order DuckDB's threads add the
# rows, and a release must not change in its last digit from one build to the next.
EXACT_SUM_TYPE = "DECIMAL(38, 10)"


def exact_sum(expression: str, where: str | None = None) -> str:
    """SQL for the order-independent sum of `expression` (optionally only over rows matching `where`)."""
    condition = f" FILTER (WHERE {where})" if where else ""
    return f"CAST(sum(CAST(({expression}) AS {EXACT_SUM_TYPE})){condition} AS DOUBLE)"


def exact_avg(expression: str) -> str:
    """SQL for the order-independent mean of `expression` over the rows where it is not null."""
    return f"({exact_sum(expression)} / nullif(count({expression}), 0))"


# Submitted metric -> column of facility_monthly holding its monthly value (canonical unit).
METRIC_COLUMNS: dict[str, str] = {
    "energy.electricity.grid": "electricity_grid_kwh",
    "energy.electricity.solar_onsite": "electricity_solar_kwh",
    "energy.electricity.renewable_contract": "electricity_renewable_contract_kwh",
    "energy.steam.purchased": "steam_purchased_gj",
    "production.output_mass": "output_kg",
    "production.output_pieces": "output_pieces",
    "water.withdrawal.municipal": "water_municipal_m3",
    "water.withdrawal.groundwater": "water_groundwater_m3",
    "water.withdrawal.surface": "water_surface_m3",
    "water.withdrawal.rainwater": "water_rainwater_m3",
    "water.recycled": "water_recycled_m3",
    "wastewater.discharged.to_cetp": "wastewater_to_cetp_m3",
    "wastewater.discharged.direct": "wastewater_direct_m3",
    "chemicals.products.total": "chemical_products_total",
    "chemicals.products.zdhc_level1plus": "chemical_products_zdhc_level1plus",
    "chemicals.consumption": "chemicals_kg",
    "waste.hazardous": "waste_hazardous_kg",
    "waste.non_hazardous": "waste_non_hazardous_kg",
    "waste.recycled": "waste_recycled_kg",
    "workforce.female": "workers_female",
    "workforce.male": "workers_male",
    "workforce.supervisors.female": "supervisors_female",
    "workforce.supervisors.male": "supervisors_male",
    "workforce.managers.female": "managers_female",
    "workforce.managers.male": "managers_male",
    "workforce.hours_worked": "hours_worked",
    "wages.entry_level_monthly": "entry_wage_local",
    "ohs.injuries.recordable": "injuries_recordable",
    "ohs.injuries.lost_time": "injuries_lost_time",
    "ohs.lost_days": "lost_days",
    "ohs.fatalities": "fatalities",
    "grievances.received": "grievances_received",
    "grievances.resolved": "grievances_resolved",
    "grievances.gbv.received": "grievances_gbv_received",
    "training.hours": "training_hours",
}
# Fuels are all the catalogue's `energy.fuel.*` metrics (their factors are in ref_fuel_factors).
FUEL_METRICS = tuple(sorted(f"energy.fuel.{fuel}" for fuel in reference.fuels()))
GRID = "energy.electricity.grid"
SOLAR = "energy.electricity.solar_onsite"
CONTRACT = "energy.electricity.renewable_contract"
OUTPUT = "production.output_mass"
WITHDRAWAL = (
    "water.withdrawal.municipal",
    "water.withdrawal.groundwater",
    "water.withdrawal.surface",
    "water.withdrawal.rainwater",
)
ENERGY_INPUTS = (*FUEL_METRICS, GRID, SOLAR, "energy.steam.purchased")
WORKFORCE = ("workforce.female", "workforce.male")
SUPERVISORS = ("workforce.supervisors.female", "workforce.supervisors.male")
MANAGERS = ("workforce.managers.female", "workforce.managers.male")

# The submitted metrics each computed facility-month column is made of. When one of them is missing for
# the facility-month (see instep.indicators.facility), the column is left empty, never computed as if the
# missing input were zero; the missing metrics are named in `missing_inputs`.
INDICATOR_INPUTS: dict[str, tuple[str, ...]] = {
    "fuel_fossil_gj": FUEL_METRICS,
    "fuel_biomass_gj": FUEL_METRICS,
    "fuel_energy_gj": FUEL_METRICS,
    "energy_total_gj": ENERGY_INPUTS,
    "renewable_electricity_share_pct": (GRID, SOLAR, CONTRACT),
    "scope1_t_co2e": FUEL_METRICS,
    "biogenic_co2_t": FUEL_METRICS,
    "scope2_location_t_co2e": (GRID,),
    "scope2_market_t_co2e": (GRID, CONTRACT),
    "ghg_intensity_kg_co2e_per_kg": (*FUEL_METRICS, GRID, OUTPUT),
    "energy_intensity_mj_per_kg": (*ENERGY_INPUTS, OUTPUT),
    "water_withdrawal_m3": WITHDRAWAL,
    "water_recycling_rate_pct": (*WITHDRAWAL, "water.recycled"),
    "water_intensity_l_per_kg": (*WITHDRAWAL, OUTPUT),
    "mrsl_conformance_pct": ("chemicals.products.total", "chemicals.products.zdhc_level1plus"),
    "workers_total": WORKFORCE,
    "women_share_workforce_pct": WORKFORCE,
    "supervisors_total": SUPERVISORS,
    "women_share_supervisors_pct": SUPERVISORS,
    "managers_total": MANAGERS,
    "women_share_managers_pct": MANAGERS,
    "women_supervisor_parity": (*SUPERVISORS, *WORKFORCE),
    "ltifr": ("ohs.injuries.lost_time", "workforce.hours_worked"),
    "trir": ("ohs.injuries.recordable", "workforce.hours_worked"),
    "grievance_resolution_rate_pct": ("grievances.received", "grievances.resolved"),
    "training_hours_per_worker": ("training.hours", *WORKFORCE),
    # A part is kept only beside its whole: a park sum of parts whose wholes are missing would give a
    # share above 100 %.
    "workers_female": WORKFORCE,
    "supervisors_female": SUPERVISORS,
    "managers_female": MANAGERS,
    "electricity_renewable_contract_kwh": (GRID, CONTRACT),
    "chemical_products_zdhc_level1plus": ("chemicals.products.total", "chemicals.products.zdhc_level1plus"),
}


# Change columns of park_annual and the ratio each is the change of.
CHANGE_OF = {
    "ghg_intensity_change_pct": "ghg_intensity_kg_co2e_per_kg",
    "water_intensity_change_pct": "water_intensity_l_per_kg",
}


def indicator_topics(column: str) -> tuple[str, ...]:
    """Catalogue topics of the inputs of a column (coverage is judged per topic); () for columns not made
    of submitted values (completeness, first-time acceptance)."""
    catalogue = reference.metrics()
    column = CHANGE_OF.get(column, column)
    metrics = INDICATOR_INPUTS.get(column) or tuple(m for m, c in METRIC_COLUMNS.items() if c == column)
    return tuple(sorted({catalogue[m].topic for m in metrics}))


# Month-end counts (stocks): summed over facilities, averaged over the months of a year.
STOCKS = (
    "workers_total",
    "workers_female",
    "supervisors_total",
    "supervisors_female",
    "managers_total",
    "managers_female",
    "chemical_products_total",
    "chemical_products_zdhc_level1plus",
)


@dataclass(frozen=True)
class Ratio:
    column: str
    sql: str  # over the summed amounts of the same row
    text: str  # for the methodology page
    # Person count(s) behind the ratio: suppressed when any is below MIN_PERSONS.
    persons: tuple[str, ...] = ()


def _share(part: str, whole: str) -> str:
    return f"100.0 * {part} / nullif({whole}, 0)"


RATIOS: tuple[Ratio, ...] = (
    Ratio(
        "renewable_electricity_share_pct",
        "100.0 * (coalesce(electricity_solar_kwh, 0) + coalesce(electricity_renewable_contract_kwh, 0)) "
        "/ nullif(coalesce(electricity_grid_kwh, 0) + coalesce(electricity_solar_kwh, 0), 0)",
        "(solar kWh + renewable contract kWh) / (grid kWh + solar kWh) x 100",
    ),
    Ratio(
        "ghg_intensity_kg_co2e_per_kg",
        "CASE WHEN coalesce(scope1_t_co2e, scope2_location_t_co2e) IS NOT NULL THEN 1000.0 * "
        "(coalesce(scope1_t_co2e, 0) + coalesce(scope2_location_t_co2e, 0)) / nullif(output_kg, 0) END",
        "(Scope 1 t CO2e + Scope 2 location-based t CO2e) x 1000 / output kg",
    ),
    Ratio(
        "energy_intensity_mj_per_kg",
        "1000.0 * energy_total_gj / nullif(output_kg, 0)",
        "total energy GJ x 1000 / output kg",
    ),
    Ratio(
        "water_recycling_rate_pct",
        "100.0 * coalesce(water_recycled_m3, 0) "
        "/ nullif(coalesce(water_withdrawal_m3, 0) + coalesce(water_recycled_m3, 0), 0)",
        "recycled m3 / (withdrawal m3 + recycled m3) x 100",
    ),
    Ratio(
        "water_intensity_l_per_kg",
        "1000.0 * water_withdrawal_m3 / nullif(output_kg, 0)",
        "water withdrawal m3 x 1000 / output kg",
    ),
    Ratio(
        "zdhc_foundational_share_pct",
        _share(
            "wastewater_results_meeting_foundational",
            "wastewater_results_discharge - wastewater_results_inconclusive",
        ),
        "discharge results meeting foundational / (discharge results - inconclusive results) x 100",
    ),
    Ratio(
        "mrsl_conformance_pct",
        _share("chemical_products_zdhc_level1plus", "chemical_products_total"),
        "products with ZDHC MRSL level 1 or higher / products in the inventory x 100",
    ),
    Ratio(
        "women_share_workforce_pct",
        _share("workers_female", "workers_total"),
        "female workers / workers x 100",
        ("workers_total",),
    ),
    Ratio(
        "women_share_supervisors_pct",
        _share("supervisors_female", "supervisors_total"),
        "female supervisors / supervisors x 100",
        ("supervisors_total",),
    ),
    Ratio(
        "women_share_managers_pct",
        _share("managers_female", "managers_total"),
        "female managers / managers x 100",
        ("managers_total",),
    ),
    Ratio(
        "women_supervisor_parity",
        "(supervisors_female / nullif(supervisors_total, 0)) "
        "/ nullif(workers_female / nullif(workers_total, 0), 0)",
        "women's share of supervisors / women's share of the workforce",
        ("supervisors_total", "workers_total"),
    ),
    Ratio(
        "ltifr",
        f"{LTIFR_HOURS}.0 * injuries_lost_time / nullif(hours_worked, 0)",
        f"lost-time injuries x {LTIFR_HOURS:,} / hours worked",
    ),
    Ratio(
        "trir",
        f"{TRIR_HOURS}.0 * injuries_recordable / nullif(hours_worked, 0)",
        f"recordable injuries x {TRIR_HOURS:,} / hours worked",
    ),
    Ratio(
        "grievance_resolution_rate_pct",
        _share("grievances_resolved", "grievances_received"),
        "grievances resolved / grievances received x 100",
    ),
    Ratio(
        "training_hours_per_worker",
        "training_hours / nullif(workers_total, 0)",
        "training hours / workers",
        ("workers_total",),
    ),
)


# Market-based intensity: published in facility_annual only (the monthly tables carry the location-based
# one), by the same expression shape as ghg_intensity_kg_co2e_per_kg.
GHG_INTENSITY_MARKET = Ratio(
    "ghg_intensity_market_kg_co2e_per_kg",
    "CASE WHEN coalesce(scope1_t_co2e, scope2_market_t_co2e) IS NOT NULL THEN 1000.0 * "
    "(coalesce(scope1_t_co2e, 0) + coalesce(scope2_market_t_co2e, 0)) / nullif(output_kg, 0) END",
    "(Scope 1 t CO2e + Scope 2 market-based t CO2e) x 1000 / output kg",
)


@dataclass(frozen=True)
class Identity:
    """A column that is a weighted sum of other columns of the same row, at every level.

    `parts` are (column, coefficient): a number, or the name of a column of the row holding it (the
    grid factor, the same for every facility of a park and year). Facility rows satisfy it by
    construction (tests/test_indicators.py checks the SQL against it); sums keep it, so park rows do too,
    and disclosure control treats it as one of the linear relations a reader can use.
    """

    total: str
    parts: tuple[tuple[str, float | str], ...]


IDENTITIES: tuple[Identity, ...] = (
    Identity("fuel_energy_gj", (("fuel_fossil_gj", 1.0), ("fuel_biomass_gj", 1.0))),
    Identity(
        "energy_total_gj",
        (
            ("fuel_energy_gj", 1.0),
            ("electricity_grid_kwh", KWH_TO_GJ),
            ("electricity_solar_kwh", KWH_TO_GJ),
            ("steam_purchased_gj", 1.0),
        ),
    ),
    Identity(
        "water_withdrawal_m3",
        (
            ("water_municipal_m3", 1.0),
            ("water_groundwater_m3", 1.0),
            ("water_surface_m3", 1.0),
            ("water_rainwater_m3", 1.0),
        ),
    ),
    Identity("scope2_location_t_co2e", (("electricity_grid_kwh", "grid_factor_per_kwh"),)),
    Identity(
        "scope2_market_t_co2e",
        (
            ("electricity_grid_kwh", "grid_factor_per_kwh"),
            ("electricity_renewable_contract_kwh", "-grid_factor_per_kwh"),
        ),
    ),
)
# Columns an identity's coefficient may name, as SQL over the row.
COEFFICIENT_COLUMNS = {"grid_factor_per_kwh": "grid_factor_t_co2_per_mwh / 1000.0"}


def ratio_inputs(ratio: Ratio, columns: tuple[str, ...]) -> tuple[str, ...]:
    """The columns among `columns` that the ratio's SQL reads."""
    return tuple(c for c in columns if re.search(rf"\b{re.escape(c)}\b", ratio.sql))


# Female counts published only with their total's ratio (a count over a tiny total reveals the ratio).
SUPPRESSED_COUNTS = {
    "workers_female": "workers_total",
    "supervisors_female": "supervisors_total",
    "managers_female": "managers_total",
}
RATIO_COLUMNS = tuple(r.column for r in RATIOS)


def ratio_select() -> str:
    """`expr AS column` for every ratio, over a relation holding the summed amounts."""
    return ",\n    ".join(f"{r.sql} AS {r.column}" for r in RATIOS)


__all__ = [
    "CHANGE_OF",
    "COEFFICIENT_COLUMNS",
    "FUEL_METRICS",
    "GHG_INTENSITY_MARKET",
    "IDENTITIES",
    "INDICATOR_INPUTS",
    "KWH_TO_GJ",
    "LTIFR_HOURS",
    "METRIC_COLUMNS",
    "MIN_PERSONS",
    "RATIOS",
    "RATIO_COLUMNS",
    "STOCKS",
    "SUPPRESSED_COUNTS",
    "TRIR_HOURS",
    "Identity",
    "Ratio",
    "indicator_topics",
    "ratio_inputs",
    "ratio_select",
]
