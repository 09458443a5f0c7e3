"""Annual tables computed from published cells only: facility_annual and programme_annual.

Both read the `pub_*` tables, after disclosure control: a facility's year is the sum of its published
months, a programme or country total the sum of the published park totals of the parks that show the
figure. Whatever these tables say, a reader could already compute from the release, so they add no
relation a withheld cell could be recovered from (tests/test_annual_tables.py attacks them).

The ratios are the indicators' own (`instep.indicators.formulas.RATIOS`), applied to the sums.
"""

from __future__ import annotations

import duckdb

from instep import reference
from instep.disclosure import rules as disclosure_rules
from instep.indicators.formulas import GHG_INTENSITY_MARKET, RATIOS, Ratio, exact_sum
from instep.metadata.model import table_ddl
from instep.metadata.resources import FACILITY_ANNUAL, PROGRAMME_ANNUAL

# Summed columns of facility_annual (facility_monthly columns of the same name).
FACILITY_YEAR_SUMS = (
    "scope1_t_co2e",
    "biogenic_co2_t",
    "scope2_location_t_co2e",
    "scope2_market_t_co2e",
    "output_kg",
    "output_pieces",
    "energy_total_gj",
    "water_withdrawal_m3",
)
# Groups of programme_annual: the park_annual columns summed together, and the column counting the parks
# whose row withholds none of them. A park withholding one figure of a group is left out of the whole
# group, so that no part of a withheld cell is computable from the group's sums and ratios.
PROGRAMME_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ghg_parks_included", ("scope1_t_co2e", "scope2_location_t_co2e", "scope2_market_t_co2e")),
    (
        "electricity_parks_included",
        ("electricity_grid_kwh", "electricity_solar_kwh", "electricity_renewable_contract_kwh"),
    ),
    ("water_parks_included", ("water_withdrawal_m3",)),
    (
        "wastewater_parks_included",
        (
            "wastewater_results_discharge",
            "wastewater_results_meeting_foundational",
            "wastewater_results_inconclusive",
        ),
    ),
)
# Entry-level wage / legal minimum of a month (SPEC 3), over the month's statutory minimum.
WAGE_RATIO = "entry_wage_local / nullif(monthly_minimum, 0)"
MINIMUM_WAGE_TABLE = "ref_minimum_wages"
PROGRAMME = "programme"
COUNTRY = "country"


def _ratio(column: str) -> Ratio:
    return next(r for r in RATIOS if r.column == column)


FACILITY_YEAR_RATIOS = (
    _ratio("ghg_intensity_kg_co2e_per_kg"),
    GHG_INTENSITY_MARKET,
    _ratio("energy_intensity_mj_per_kg"),
    _ratio("water_intensity_l_per_kg"),
)
PROGRAMME_RATIOS = (_ratio("renewable_electricity_share_pct"), _ratio("zdhc_foundational_share_pct"))


def _complete_sum(column: str) -> str:
    """The year's sum, only when every month covered has the value (a partial sum would understate it)."""
    return f"CASE WHEN count({column}) = count(*) THEN {exact_sum(column)} END AS {column}"


def _incomplete(column: str) -> str:
    return f"CASE WHEN count({column}) BETWEEN 1 AND count(*) - 1 THEN '{column}' END"


def facility_annual_sql() -> str:
    sums = ",\n    ".join(_complete_sum(c) for c in FACILITY_YEAR_SUMS)
    incomplete = ", ".join(_incomplete(c) for c in FACILITY_YEAR_SUMS)
    ratios = ",\n    ".join(f"{r.sql} AS {r.column}" for r in FACILITY_YEAR_RATIOS)
    separator = disclosure_rules.FIELD_SEPARATOR
    return f"""
WITH bounds AS (SELECT min(period_start) AS first_month, max(period_start) AS last_month FROM observations),
months AS (
    SELECT CAST(m AS DATE) AS month_start, CAST(last_day(m) AS DATE) AS month_end,
           CAST(year(m) AS INTEGER) AS year
    FROM (SELECT unnest(generate_series(first_month, last_month, INTERVAL 1 MONTH)) AS m FROM bounds
          WHERE first_month IS NOT NULL)
),
expected AS (
    SELECT f.facility_id, m.year, count(*) AS months_expected
    FROM pub_facilities AS f JOIN months AS m
      ON f.active_from <= m.month_end AND (f.active_to IS NULL OR f.active_to >= m.month_start)
    GROUP BY f.facility_id, m.year
),
restated AS (
    SELECT facility_id, CAST(left(period, 4) AS INTEGER) AS year, count(DISTINCT period) AS restated_months
    FROM submission_rows
    WHERE state = 'superseded' AND facility_id IN (SELECT facility_id FROM pub_facilities)
      AND regexp_full_match(period, '\\d{{4}}-(0[1-9]|1[0-2])')
    GROUP BY ALL
),
month_wages AS (
    SELECT m.facility_id, m.year, m.entry_wage_local, w.status, w.monthly_minimum, w.currency
    FROM pub_facility_monthly AS m
    JOIN pub_parks AS p ON p.park_id = m.park_id
    LEFT JOIN {MINIMUM_WAGE_TABLE} AS w
      ON w.country = p.country AND (w.region = p.region OR w.region = '')
     AND w.valid_from <= CAST(m.period || '-01' AS DATE)
     AND (w.valid_to IS NULL OR w.valid_to >= CAST(m.period || '-01' AS DATE))
    -- An entry for the park's region wins over one for the whole country.
    QUALIFY row_number() OVER (PARTITION BY m.facility_id, m.period ORDER BY w.region = '', w.region) = 1
),
wages AS (
    SELECT facility_id, year,
        min(entry_wage_local) AS entry_wage_local,
        CASE WHEN bool_or(status = 'statutory') THEN 'statutory'
             WHEN bool_and(coalesce(status = 'no_statutory_minimum', false)) THEN 'no_statutory_minimum'
        END AS minimum_wage_status,
        min({WAGE_RATIO}) FILTER (WHERE status = 'statutory') AS entry_wage_to_minimum,
        arg_min(monthly_minimum, {WAGE_RATIO}) FILTER (WHERE status = 'statutory') AS minimum_wage_local,
        CASE WHEN count({WAGE_RATIO}) FILTER (WHERE status = 'statutory') > 0
             THEN count(*) FILTER (WHERE status = 'statutory' AND {WAGE_RATIO} < 1)
        END AS months_below_minimum,
        min(currency) AS wage_currency
    FROM month_wages GROUP BY facility_id, year
),
sums AS (
    SELECT facility_id, park_id, year, count(*) AS months_covered,
    {sums},
    max(grid_factor_year) AS grid_factor_year,
    bool_or(grid_factor_fallback) AS grid_factor_fallback,
    min(gwp_set) AS gwp_set,
    nullif(array_to_string(list_filter([{incomplete}], lambda x: x IS NOT NULL), '{separator}'), '')
        AS incomplete_fields
    FROM pub_facility_monthly GROUP BY facility_id, park_id, year
)
SELECT s.*, f.name, f.os_id, p.country,
    wg.entry_wage_local, wg.minimum_wage_status, wg.entry_wage_to_minimum, wg.minimum_wage_local,
    wg.months_below_minimum, wg.wage_currency,
    e.months_expected,
    100.0 * s.months_covered / nullif(e.months_expected, 0) AS coverage_pct,
    coalesce(r.restated_months, 0) AS restated_months,
    {ratios}
FROM sums AS s
JOIN pub_facilities AS f USING (facility_id)
JOIN pub_parks AS p ON p.park_id = s.park_id
LEFT JOIN expected AS e ON e.facility_id = s.facility_id AND e.year = s.year
LEFT JOIN restated AS r ON r.facility_id = s.facility_id AND r.year = s.year
LEFT JOIN wages AS wg ON wg.facility_id = s.facility_id AND wg.year = s.year
"""


def _withholds_none(columns: tuple[str, ...]) -> str:
    """SQL: the park_annual row withholds none of `columns` (a column not reported is simply null)."""
    names = ", ".join(f"'{c}'" for c in columns)
    separator = disclosure_rules.FIELD_SEPARATOR
    return f"NOT list_has_any(string_split(coalesce(suppressed_fields, ''), '{separator}'), [{names}])"


def programme_annual_sql() -> str:
    group_columns: list[str] = []
    for counter, columns in PROGRAMME_GROUPS:
        shows = _withholds_none(columns)
        group_columns += [exact_sum(c, shows) + f" AS {c}" for c in columns]
        group_columns.append(f"count(*) FILTER (WHERE {shows}) AS {counter}")
    grouped = ",\n        ".join(group_columns)
    ratios = ",\n    ".join(f"{r.sql} AS {r.column}" for r in PROGRAMME_RATIOS)
    return f"""
WITH rows AS (
    SELECT a.*, p.country FROM pub_park_annual AS a JOIN pub_parks AS p USING (park_id)
),
areas AS (
    SELECT *, '{PROGRAMME}' AS area, '{PROGRAMME}' AS area_type FROM rows
    UNION ALL
    SELECT *, country AS area, '{COUNTRY}' AS area_type FROM rows
),
sums AS (
    SELECT year, area, area_type, count(*) AS parks_reporting,
        count(*) FILTER (WHERE year_status = 'complete') AS parks_complete,
        {grouped}
    FROM areas GROUP BY year, area, area_type
)
SELECT *, {ratios} FROM sums
"""


def register_minimum_wages(con: duckdb.DuckDBPyConnection) -> None:
    """The minimum-wage reference as a temporary table the facility-year SQL joins."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {MINIMUM_WAGE_TABLE} (country VARCHAR, region VARCHAR, "
        "valid_from DATE, valid_to DATE, status VARCHAR, monthly_minimum DOUBLE, currency VARCHAR)"
    )
    rows = [
        [e.country, e.region, e.valid_from, e.valid_to, e.status, e.monthly_minimum, e.currency]
        for e in reference.minimum_wages()
    ]
    if rows:
        con.executemany(f"INSERT INTO {MINIMUM_WAGE_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


def build_annual_tables(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """pub_facility_annual and pub_programme_annual from the published tables; rows per table."""
    counts: dict[str, int] = {}
    register_minimum_wages(con)
    for spec, query in ((FACILITY_ANNUAL, facility_annual_sql()), (PROGRAMME_ANNUAL, programme_annual_sql())):
        table = f"pub_{spec.name}"
        con.execute(table_ddl(table, spec.fields, spec.primary_key))
        con.execute(f'INSERT INTO "{table}" BY NAME SELECT {", ".join(spec.field_names)} FROM ({query})')
        counts[table] = con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0]
    return counts
