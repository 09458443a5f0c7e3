"""Park level: sums over the park's facilities per month, then per year, and the ratios of those sums.

Every facility counts, including those that disclose only in aggregate. Shared plants are counted once:
steam that factories bought from the park's own central boiler is already in the boiler's fuel, so it is
not added to the park's energy (it is shown apart, in steam_from_central_boiler_gj).
"""

from __future__ import annotations

import re
from datetime import date

import duckdb

from instep.indicators.facility import create_out_table
from instep.indicators.formulas import (
    CHANGE_OF,
    RATIO_COLUMNS,
    RATIOS,
    STOCKS,
    exact_avg,
    exact_sum,
    ratio_select,
)
from instep.metadata.resources import COVERAGE_THRESHOLD_PCT, MEASURES

RATIOS_BY_COLUMN = {r.column: r for r in RATIOS}

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

# The amounts the intensity changes (CHANGE_OF) are made of.
CHANGE_AMOUNTS = ("scope1_t_co2e", "scope2_location_t_co2e", "water_withdrawal_m3", "output_kg")


def _paired_sums(alias: str, prefix: str = "") -> str:
    return ",\n        ".join(f"{exact_sum(f'{alias}.{c}')} AS {prefix}{c}" for c in CHANGE_AMOUNTS)


def _change(column: str) -> str:
    """(this / previous - 1) x 100 of a ratio, both from the paired sums with the ratio's own formula."""
    sql = RATIOS_BY_COLUMN[column].sql
    previous = sql
    for amount in CHANGE_AMOUNTS:
        previous = re.sub(rf"\b{amount}\b", f"previous_{amount}", previous)
    return f"100.0 * (({sql}) / nullif({previous}, 0) - 1)"


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
ratios AS (SELECT *, {ratio_select()} FROM amounts),
-- like for like: both years over the calendar months with data in both, so that a year to date is not
-- set against a whole year
paired AS (
    SELECT c.park_id, c.year,
        {_paired_sums("c")},
        {_paired_sums("p", "previous_")}
    FROM out_park_monthly AS c JOIN out_park_monthly AS p
      ON p.park_id = c.park_id AND p.year = c.year - 1 AND right(p.period, 2) = right(c.period, 2)
    WHERE c.facilities_reporting > 0 AND p.facilities_reporting > 0
    GROUP BY c.park_id, c.year
),
changes AS (
    SELECT park_id, year,
        {", ".join(f"{_change(ratio)} AS {change}" for change, ratio in CHANGE_OF.items())}
    FROM paired
),
months AS (
    SELECT park_id, year, count(*) FILTER (WHERE facilities_reporting > 0) AS months_reported
    FROM out_park_monthly GROUP BY park_id, year
),
coverage AS (
    SELECT park_id, year,
        any_value(coverage_pct) FILTER (WHERE topic = 'all') AS all_pct,
        string_agg(topic, ';' ORDER BY topic) FILTER (WHERE below_threshold AND topic <> 'all')
            AS low_coverage_topics
    FROM out_park_coverage GROUP BY park_id, year
)
SELECT r.*, {", ".join(f"ch.{change}" for change in CHANGE_OF)},
    q.data_completeness_pct, q.first_time_acceptance_pct,
    coalesce(mo.months_reported, 0) AS months_reported,
    CASE
        WHEN make_date(r.year, 12, 31) >= DATE '{{as_of}}' THEN 'year_to_date'
        WHEN coalesce(cv.all_pct, 0) >= {COVERAGE_THRESHOLD_PCT} THEN 'complete'
        ELSE 'incomplete'
    END AS year_status,
    cv.low_coverage_topics
FROM ratios AS r
LEFT JOIN changes AS ch ON ch.park_id = r.park_id AND ch.year = r.year
LEFT JOIN out_data_quality AS q ON q.park_id = r.park_id AND q.year = r.year
LEFT JOIN months AS mo ON mo.park_id = r.park_id AND mo.year = r.year
LEFT JOIN coverage AS cv ON cv.park_id = r.park_id AND cv.year = r.year
"""


def build_park_monthly(con: duckdb.DuckDBPyConnection) -> None:
    create_out_table(con, "park_monthly")
    con.execute(PARK_MONTHLY_SQL)


def build_park_annual(con: duckdb.DuckDBPyConnection, as_of: date) -> None:
    """Needs out_park_monthly, out_data_quality and out_park_coverage; `as_of` is the run's date."""
    create_out_table(con, "park_annual")
    con.execute(PARK_ANNUAL_SQL.replace("{as_of}", as_of.isoformat()))


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
