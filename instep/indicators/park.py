"""Park level: sums over the park's facilities per month, then per year, and the ratios of those sums.

Every facility counts, including those that disclose only in aggregate. Shared plants are counted once:
steam that factories bought from the park's own central boiler is already in the boiler's fuel, so it is
not added to the park's energy (it is shown apart, in steam_from_central_boiler_gj).
"""

from __future__ import annotations

import duckdb

from instep.indicators.facility import create_out_table
from instep.indicators.formulas import RATIO_COLUMNS, STOCKS, exact_avg, exact_sum, ratio_select
from instep.metadata.resources import MEASURES

# Facility-month columns that are not summed: the grid factor (one country per park) and labels.
NOT_SUMMED = {"grid_factor_t_co2_per_mwh", "grid_factor_year", "grid_factor_fallback", "gwp_set"}
# Steam and total energy are summed with the central-boiler rule below.
STEAM_RULE = {"steam_purchased_gj", "energy_total_gj"}
SUMMED = (
    *(f.name for f in MEASURES if f.name not in RATIO_COLUMNS and f.name not in NOT_SUMMED | STEAM_RULE),
    "grievances_gbv_received",
)


def _sums(columns: tuple[str, ...]) -> str:
    return ",\n        ".join(f"{exact_sum(c)} AS {c}" for c in columns)


PARK_MONTHLY_SQL = f"""
INSERT INTO out_park_monthly BY NAME
WITH boilers AS (SELECT DISTINCT park_id FROM facilities WHERE type = 'central_boiler'),
expected AS (
    SELECT park_id, period, any_value(year) AS year, count(*) AS facilities_expected
    FROM ind_expected GROUP BY park_id, period
),
sums AS (
    SELECT park_id, period, any_value(year) AS year, count(*) AS facilities_reporting,
        {_sums(SUMMED)},
        {exact_sum("steam_purchased_gj")} AS steam_gj,
        {exact_sum("energy_total_gj")} AS energy_gj,
        max(grid_factor_t_co2_per_mwh) AS grid_factor_t_co2_per_mwh,
        max(grid_factor_year) AS grid_factor_year,
        bool_or(grid_factor_fallback) AS grid_factor_fallback,
        any_value(gwp_set) AS gwp_set
    FROM out_facility_monthly GROUP BY park_id, period
),
amounts AS (
    SELECT coalesce(e.park_id, s.park_id) AS park_id, coalesce(e.period, s.period) AS period,
        coalesce(e.year, s.year) AS year,
        coalesce(e.facilities_expected, 0) AS facilities_expected,
        coalesce(s.facilities_reporting, 0) AS facilities_reporting,
        s.* EXCLUDE (park_id, period, year, facilities_reporting, steam_gj, energy_gj),
        CASE WHEN b.park_id IS NULL THEN s.steam_gj WHEN s.steam_gj IS NOT NULL THEN 0.0 END
            AS steam_purchased_gj,
        CASE WHEN b.park_id IS NOT NULL THEN s.steam_gj END AS steam_from_central_boiler_gj,
        s.energy_gj - CASE WHEN b.park_id IS NOT NULL THEN coalesce(s.steam_gj, 0) ELSE 0 END
            AS energy_total_gj
    FROM expected AS e FULL JOIN sums AS s USING (park_id, period)
    LEFT JOIN boilers AS b ON b.park_id = coalesce(e.park_id, s.park_id)
)
SELECT *, {ratio_select()} FROM amounts
"""

ANNUAL_FLOWS = (
    *(c for c in SUMMED if c not in STOCKS),
    "steam_purchased_gj",
    "steam_from_central_boiler_gj",
    "energy_total_gj",
)

PARK_ANNUAL_SQL = f"""
INSERT INTO out_park_annual BY NAME
WITH amounts AS (
    SELECT park_id, year,
        {_sums(ANNUAL_FLOWS)},
        -- month-end counts: the average of the months with data
        {",".join(f"{exact_avg(c)} AS {c}" for c in STOCKS)},
        max(grid_factor_t_co2_per_mwh) AS grid_factor_t_co2_per_mwh,
        max(grid_factor_year) AS grid_factor_year,
        bool_or(grid_factor_fallback) AS grid_factor_fallback,
        any_value(gwp_set) AS gwp_set
    FROM out_park_monthly GROUP BY park_id, year
),
ratios AS (SELECT *, {ratio_select()} FROM amounts)
SELECT r.*,
    100.0 * (r.ghg_intensity_kg_co2e_per_kg / nullif(p.ghg_intensity_kg_co2e_per_kg, 0) - 1)
        AS ghg_intensity_change_pct,
    100.0 * (r.water_intensity_l_per_kg / nullif(p.water_intensity_l_per_kg, 0) - 1)
        AS water_intensity_change_pct,
    q.data_completeness_pct, q.first_time_acceptance_pct
FROM ratios AS r
LEFT JOIN ratios AS p ON p.park_id = r.park_id AND p.year = r.year - 1
LEFT JOIN out_data_quality AS q ON q.park_id = r.park_id AND q.year = r.year
"""


def build_park_monthly(con: duckdb.DuckDBPyConnection) -> None:
    create_out_table(con, "park_monthly")
    con.execute(PARK_MONTHLY_SQL)


def build_park_annual(con: duckdb.DuckDBPyConnection) -> None:
    """Needs out_park_monthly and out_data_quality."""
    create_out_table(con, "park_annual")
    con.execute(PARK_ANNUAL_SQL)


def park_contribution_sql(column: str, boiler_park: str) -> str:
    """SQL for what one facility-month row adds to the park's `column` (the sums above, per facility).

    `boiler_park` is SQL that is true in a park with a central boiler. Steam and total energy follow the
    central-boiler rule of PARK_MONTHLY_SQL; every other summed column is the facility's own value.
    """
    if column == "steam_purchased_gj":
        return (
            f"CASE WHEN NOT ({boiler_park}) THEN steam_purchased_gj "
            "WHEN steam_purchased_gj IS NOT NULL THEN 0.0 END"
        )
    if column == "steam_from_central_boiler_gj":
        return f"CASE WHEN {boiler_park} THEN steam_purchased_gj END"
    if column == "energy_total_gj":
        return f"energy_total_gj - CASE WHEN {boiler_park} THEN coalesce(steam_purchased_gj, 0) ELSE 0 END"
    return column


# Every additive column of the park tables: summed over facilities, then over months (stocks averaged).
PARK_ADDITIVE = (*SUMMED, "steam_purchased_gj", "energy_total_gj", "steam_from_central_boiler_gj")
