"""Indicators computed in DuckDB from the accepted observations: facility-month, park-month, park-year.

Each step is plain SQL on one connection, writing an `out_*` table whose columns are described in
`instep.metadata.resources`. The formulas are in `instep.indicators.formulas`; the factors come from
`instep.reference` through `instep.indicators.reference_tables`.

Every run recomputes the tables whole rather than only the partitions (facility-months, park-months,
park-years) a new batch touched. That is deliberate: each table is a few set-based statements, linear in
the observations (about 2 s for 2 million, 15 to 20 s for 21 million), while what an indicator depends on
is wider than the batch's rows. The registry is reloaded every run (a facility's park, disclosure or
active months change expected facility-months and park sums), the reporting date moves completeness
and the complete-year flags, the GWP set and factor tables are settings, confirmations move rows between
states, and a park-year's like-for-like change reads the previous year. Recomputing only touched
partitions would need all of these tracked as invalidations, and a missed one would leave a stale number
in a release; the whole recompute cannot.
"""

from __future__ import annotations

import duckdb

from instep.indicators.coverage import build_coverage, build_data_quality
from instep.indicators.facility import build_facility_monthly, build_wastewater_results
from instep.indicators.park import build_park_annual, build_park_monthly
from instep.indicators.park_coverage import build_park_coverage
from instep.indicators.reference_tables import register_reference_tables
from instep.settings import Settings

OUT_TABLES = (
    "out_wastewater_results",
    "out_facility_monthly",
    "out_data_quality",
    "out_park_monthly",
    "out_park_coverage",
    "out_park_annual",
)


def build_indicator_tables(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, int]:
    """Recompute every out_* indicator table from `observations` and the registry; rows per table."""
    register_reference_tables(con, settings.gwp_set)
    build_wastewater_results(con)
    build_facility_monthly(con, settings.gwp_set)
    build_coverage(con)
    build_data_quality(con)
    build_park_monthly(con)
    build_park_coverage(con)
    build_park_annual(con, settings.as_of)
    return {table: con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0] for table in OUT_TABLES}
