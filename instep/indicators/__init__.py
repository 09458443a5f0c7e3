"""Indicators computed in DuckDB from the accepted observations: facility-month, park-month, park-year.

Each step is plain SQL on one connection, writing an `out_*` table whose columns are described in
`instep.metadata.resources`. The formulas are in `instep.indicators.formulas`; the factors come from
`instep.reference` through `instep.indicators.reference_tables`.

A run after new files recomputes only the partitions they can change (`instep.indicators.incremental`
says which and why): the facility-months the files name, their park-months and park-years, and the
small park-year table whole. Anything else that changed since the last build (settings, factors, the
registry, the indicator code, an earlier row judged again) rebuilds every table, as does `full=True`.
Either way the tables are equal, row for row, to those of a full rebuild.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from instep.indicators.coverage import (
    build_coverage,
    build_data_quality,
    build_expected,
    build_reporting_window,
)
from instep.indicators.facility import build_facility_monthly, build_wastewater_results
from instep.indicators.incremental import (
    BuildPlan,
    current_state,
    inputs_fingerprint,
    plan_build,
    read_watermark,
    recompute_coverage_years,
    recompute_facility_months,
    recompute_park_months_and_years,
    record_watermark,
)
from instep.indicators.park import build_park_annual, build_park_monthly
from instep.indicators.park_coverage import build_park_coverage, register_metric_topics
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


@dataclass(frozen=True)
class IndicatorBuild:
    """Rows per table after the build, and what it recomputed (`plan`)."""

    rows: dict[str, int]
    plan: BuildPlan


def build_indicator_tables(
    con: duckdb.DuckDBPyConnection, settings: Settings, *, full: bool = False
) -> IndicatorBuild:
    """Bring every out_* indicator table up to date with `observations` and the registry, in one
    transaction: only the partitions later files changed, or every table when more changed or `full`."""
    register_reference_tables(con, settings.gwp_set)
    register_metric_topics(con)
    con.execute("BEGIN TRANSACTION")
    try:
        build_reporting_window(con)
        now = current_state(con, inputs_fingerprint(con, settings.gwp_set))
        plan = BuildPlan(full=True, reason="a full build was asked for") if full else None
        plan = plan or plan_build(con, read_watermark(con), now)
        if plan.full:
            _build_every_table(con, settings.gwp_set)
        else:
            _build_affected_partitions(con, settings.gwp_set, plan)
        build_park_annual(con, settings.as_of)
        rows = {
            table: con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0] for table in OUT_TABLES
        }
        if plan.full:
            plan = BuildPlan(
                True,
                plan.reason,
                facility_months=rows["out_facility_monthly"],
                park_months=rows["out_park_monthly"],
                park_years=rows["out_data_quality"],
                park_tables_whole=True,
            )
        record_watermark(con, now, plan)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return IndicatorBuild(rows, plan)


def _build_every_table(con: duckdb.DuckDBPyConnection, gwp_set: str) -> None:
    build_wastewater_results(con)
    build_facility_monthly(con, gwp_set)
    build_coverage(con)
    _build_park_tables(con)


def _build_park_tables(con: duckdb.DuckDBPyConnection) -> None:
    """out_data_quality, out_park_monthly and out_park_coverage whole (needs `ind_window`, `ind_years`)."""
    build_data_quality(con)
    build_park_monthly(con)
    build_park_coverage(con)


def _build_affected_partitions(con: duckdb.DuckDBPyConnection, gwp_set: str, plan: BuildPlan) -> None:
    if plan.facility_months:
        recompute_facility_months(con, gwp_set)
    if plan.park_tables_whole:
        build_expected(con)
        _build_park_tables(con)
        return
    if plan.park_months:
        recompute_park_months_and_years(con)
    if plan.park_years:
        recompute_coverage_years(con)
