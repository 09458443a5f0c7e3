"""Facility level: wastewater results against ZDHC limits and the facility-month indicator table.

Both read the accepted observations (canonical units) and write `out_wastewater_results` and
`out_facility_monthly`, whose columns are those of the metadata (`instep.metadata.resources`) plus the
warehouse-only ones; `INSERT ... BY NAME` fails loudly if the SQL and the metadata disagree.
"""

from __future__ import annotations

import duckdb

from instep.indicators.formulas import (
    INDICATOR_INPUTS,
    KWH_TO_GJ,
    METRIC_COLUMNS,
    exact_sum,
    ratio_select,
)
from instep.metadata.model import table_ddl
from instep.metadata.resources import resource, warehouse_fields


def create_out_table(con: duckdb.DuckDBPyConnection, name: str) -> None:
    con.execute(table_ddl(f"out_{name}", warehouse_fields(name), resource(name).primary_key))


# A level is 'met', 'not_met' or 'inconclusive' (a '<x' result with x above the limit). For a range
# (pH) a censored result is not met when x is at or below the low end, else inconclusive.
# Tonnes of CO2e in Scope 1 and of biogenic CO2 from one fuel row (kg per TJ x TJ / 1000 = t).
SCOPE1_T_PER_ROW = (
    "o.value * r.gj_per_unit / 1000.0 * (CASE WHEN r.biogenic THEN 0.0 ELSE r.co2_kg_per_tj * r.gwp_co2 END"
    " + r.ch4_kg_per_tj * r.gwp_ch4 + r.n2o_kg_per_tj * r.gwp_n2o) / 1000.0"
)
BIOGENIC_CO2_T_PER_ROW = "o.value * r.gj_per_unit / 1000.0 * r.co2_kg_per_tj / 1000.0"

LEVEL_STATUS_SQL = """
    CASE
        WHEN l.kind = 'max' THEN CASE
            WHEN w.value <= l.high THEN 'met'
            WHEN w.censored THEN 'inconclusive'
            ELSE 'not_met' END
        WHEN w.censored THEN CASE WHEN w.value <= l.low THEN 'not_met' ELSE 'inconclusive' END
        WHEN w.value BETWEEN l.low AND l.high THEN 'met'
        ELSE 'not_met'
    END
"""

WASTEWATER_RESULTS_SQL = f"""
INSERT INTO out_wastewater_results BY NAME
WITH results AS (
    SELECT o.facility_id, o.park_id, o.period, o.sample_date, o.sample_point, o.metric, o.value, o.unit,
           o.censored, f.disclosure
    FROM observations AS o JOIN facilities AS f USING (facility_id)
    WHERE o.topic = 'wastewater' AND o.sample_point = 'discharge'
),
levels AS (
    SELECT w.facility_id, w.period, w.sample_date, w.metric, l.level, l.limit_text, l.parameter,
           {LEVEL_STATUS_SQL} AS status
    FROM results AS w JOIN ref_zdhc_limits AS l ON l.metric = w.metric AND l.unit = w.unit
),
judged AS (
    SELECT facility_id, period, sample_date, metric, any_value(parameter) AS parameter,
        any_value(limit_text) FILTER (WHERE level = 'foundational') AS limit_foundational,
        any_value(limit_text) FILTER (WHERE level = 'progressive') AS limit_progressive,
        any_value(limit_text) FILTER (WHERE level = 'aspirational') AS limit_aspirational,
        any_value(status) FILTER (WHERE level = 'foundational') AS foundational,
        any_value(status) FILTER (WHERE level = 'progressive') AS progressive,
        any_value(status) FILTER (WHERE level = 'aspirational') AS aspirational
    FROM levels GROUP BY ALL
)
SELECT r.facility_id, r.park_id, r.period, r.sample_date, r.sample_point, r.metric, j.parameter, r.value,
    r.unit, r.censored, j.limit_foundational, j.limit_progressive, j.limit_aspirational,
    -- the strictest level met together with every looser level; a stricter inconclusive level stops it
    CASE
        WHEN j.foundational = 'met' AND j.progressive = 'met' AND j.aspirational = 'met' THEN 'aspirational'
        WHEN j.foundational = 'met' AND j.progressive = 'met' THEN 'progressive'
        WHEN j.foundational = 'met' THEN 'foundational'
        WHEN j.foundational = 'not_met' THEN 'none'
        ELSE 'inconclusive'
    END AS zdhc_level,
    CASE j.foundational WHEN 'met' THEN true WHEN 'not_met' THEN false END AS meets_foundational,
    r.disclosure
FROM results AS r JOIN judged AS j USING (facility_id, period, sample_date, metric)
"""


def build_wastewater_results(con: duckdb.DuckDBPyConnection) -> None:
    create_out_table(con, "wastewater_results")
    con.execute(WASTEWATER_RESULTS_SQL)


def _pivot_columns() -> str:
    return ",\n        ".join(
        exact_sum("value", f"metric = '{metric}'") + f" AS {column}"
        for metric, column in METRIC_COLUMNS.items()
    )


# An input is expected in a facility-month when rows for it were submitted for that month (whatever
# became of them), or when the facility reported it in each of the two months before: a steady series
# that stops is a gap, while a metric reported now and then (a generator's diesel) is not expected.
# An expected input without an accepted value is missing; it is 'rejected' when rows for it were
# submitted and none was accepted, else 'not reported'.
MISSING_INPUTS_SQL = """
submitted AS (
    SELECT DISTINCT trim(facility_id) AS facility_id, trim(period) AS period, trim(metric) AS metric
    FROM submission_rows
),
accepted AS (
    SELECT DISTINCT facility_id, period, period_start, metric FROM observations WHERE topic <> 'wastewater'
),
expected AS (
    SELECT facility_id, period, metric FROM submitted
    UNION
    SELECT a.facility_id, strftime(a.period_start + INTERVAL 2 MONTH, '%Y-%m'), a.metric
    FROM accepted AS a JOIN accepted AS b
      ON b.facility_id = a.facility_id AND b.metric = a.metric
     AND b.period_start = a.period_start + INTERVAL 1 MONTH
),
missing AS (
    SELECT e.facility_id, e.period,
        list(e.metric ORDER BY e.metric) AS missing_metrics,
        string_agg(e.metric || CASE WHEN s.metric IS NULL THEN ' (not reported)' ELSE ' (rejected)' END, ';'
            ORDER BY e.metric) AS missing_inputs
    FROM expected AS e
    LEFT JOIN submitted AS s USING (facility_id, period, metric)
    WHERE NOT EXISTS (
        SELECT 1 FROM accepted AS a
        WHERE a.facility_id = e.facility_id AND a.period = e.period AND a.metric = e.metric
    ) AND e.metric IN ({metrics})
    GROUP BY e.facility_id, e.period
)"""


def _missing_inputs_sql() -> str:
    metrics = sorted({m for inputs in INDICATOR_INPUTS.values() for m in inputs} | set(METRIC_COLUMNS))
    return MISSING_INPUTS_SQL.format(metrics=", ".join(f"'{m}'" for m in metrics))


def _gated_columns() -> str:
    """Each computed column, emptied when one of its inputs is missing for the facility-month."""
    return ",\n        ".join(
        f"CASE WHEN NOT list_has_any(missing_metrics, [{', '.join(repr(m) for m in inputs)}]) THEN {column} "
        f"END AS {column}"
        for column, inputs in INDICATOR_INPUTS.items()
    )


def facility_monthly_sql(gwp_set: str) -> str:
    return f"""
INSERT INTO out_facility_monthly BY NAME
WITH {_missing_inputs_sql()},
months AS (
    SELECT facility_id, period, any_value(year) AS year,
        {_pivot_columns()},
        count(*) FILTER (WHERE metric LIKE 'energy.%') > 0 AS has_energy
    FROM observations WHERE topic <> 'wastewater'
    GROUP BY facility_id, period
),
fuels AS (
    SELECT o.facility_id, o.period,
        {exact_sum("o.value * r.gj_per_unit", "NOT r.biogenic")} AS fuel_fossil_gj,
        {exact_sum("o.value * r.gj_per_unit", "r.biogenic")} AS fuel_biomass_gj,
        -- biomass CO2 stays out of Scope 1, its CH4 and N2O do not
        {exact_sum(SCOPE1_T_PER_ROW)} AS scope1_fuels_t,
        {exact_sum(BIOGENIC_CO2_T_PER_ROW, "r.biogenic")} AS biogenic_fuels_t
    FROM observations AS o JOIN ref_fuel_factors AS r USING (metric)
    GROUP BY o.facility_id, o.period
),
lab AS (
    SELECT facility_id, period,
        count(*) AS wastewater_results_discharge,
        count(*) FILTER (WHERE meets_foundational) AS wastewater_results_meeting_foundational,
        count(*) FILTER (WHERE zdhc_level = 'inconclusive') AS wastewater_results_inconclusive
    FROM out_wastewater_results GROUP BY facility_id, period
),
keys AS (
    SELECT facility_id, period, year FROM months
    UNION SELECT facility_id, period, any_value(year) FROM observations GROUP BY facility_id, period
),
amounts AS (
    SELECT k.facility_id, f.park_id, k.period, k.year, f.disclosure, f.type AS facility_type,
        m.* EXCLUDE (facility_id, period, year, has_energy, workers_male, supervisors_male, managers_male),
        CASE WHEN m.workers_female IS NOT NULL OR m.workers_male IS NOT NULL
            THEN coalesce(m.workers_female, 0) + coalesce(m.workers_male, 0) END AS workers_total,
        CASE WHEN m.supervisors_female IS NOT NULL OR m.supervisors_male IS NOT NULL
            THEN coalesce(m.supervisors_female, 0) + coalesce(m.supervisors_male, 0) END AS supervisors_total,
        CASE WHEN m.managers_female IS NOT NULL OR m.managers_male IS NOT NULL
            THEN coalesce(m.managers_female, 0) + coalesce(m.managers_male, 0) END AS managers_total,
        fu.fuel_fossil_gj, fu.fuel_biomass_gj,
        CASE WHEN fu.facility_id IS NOT NULL
            THEN coalesce(fu.fuel_fossil_gj, 0) + coalesce(fu.fuel_biomass_gj, 0) END AS fuel_energy_gj,
        -- the energy the facility reported; an input it does not use is not a missing one
        CASE WHEN m.has_energy THEN coalesce(fu.fuel_fossil_gj, 0) + coalesce(fu.fuel_biomass_gj, 0)
            + (coalesce(m.electricity_grid_kwh, 0) + coalesce(m.electricity_solar_kwh, 0)) * {KWH_TO_GJ}
            + coalesce(m.steam_purchased_gj, 0) END AS energy_total_gj,
        -- Scope 1 needs fuel rows and Scope 2 a grid row: without them the facility told us nothing
        fu.scope1_fuels_t AS scope1_t_co2e,
        CASE WHEN fu.facility_id IS NOT NULL THEN coalesce(fu.biogenic_fuels_t, 0) END AS biogenic_co2_t,
        g.t_co2_per_mwh AS grid_factor_t_co2_per_mwh,
        g.year AS grid_factor_year,
        g.year IS NOT NULL AND g.year <> k.year AS grid_factor_fallback,
        m.electricity_grid_kwh / 1000.0 * g.t_co2_per_mwh AS scope2_location_t_co2e,
        -- greatest() skips nulls, so the grid row is tested first
        CASE WHEN m.electricity_grid_kwh IS NOT NULL THEN greatest(
            m.electricity_grid_kwh - coalesce(m.electricity_renewable_contract_kwh, 0), 0
        ) / 1000.0 * g.t_co2_per_mwh END AS scope2_market_t_co2e,
        CASE WHEN coalesce(m.water_municipal_m3, m.water_groundwater_m3, m.water_surface_m3,
                m.water_rainwater_m3) IS NOT NULL
            THEN coalesce(m.water_municipal_m3, 0) + coalesce(m.water_groundwater_m3, 0)
                + coalesce(m.water_surface_m3, 0) + coalesce(m.water_rainwater_m3, 0)
        END AS water_withdrawal_m3,
        lab.wastewater_results_discharge, lab.wastewater_results_meeting_foundational,
        lab.wastewater_results_inconclusive,
        '{gwp_set}' AS gwp_set,
        coalesce(mi.missing_metrics, []) AS missing_metrics, mi.missing_inputs
    FROM keys AS k
    JOIN facilities AS f USING (facility_id)
    JOIN parks AS p ON p.park_id = f.park_id
    LEFT JOIN months AS m USING (facility_id, period)
    LEFT JOIN missing AS mi USING (facility_id, period)
    LEFT JOIN fuels AS fu USING (facility_id, period)
    LEFT JOIN lab USING (facility_id, period)
    -- the country's factor for the year, else the latest earlier year
    ASOF LEFT JOIN ref_grid_factors AS g ON g.country = p.country AND g.year <= k.year
),
computed AS (SELECT *, {ratio_select()} FROM amounts)
SELECT * EXCLUDE (missing_metrics) REPLACE (
        {_gated_columns()}
    )
FROM computed
"""


def build_facility_monthly(con: duckdb.DuckDBPyConnection, gwp_set: str) -> None:
    create_out_table(con, "facility_monthly")
    con.execute(facility_monthly_sql(gwp_set))
