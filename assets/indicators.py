"""Indicators: facility-month, park-month and park-year tables in the warehouse (`out_*`, before disclosure).

Thin: the SQL lives in `instep.indicators`; the columns in `instep.metadata.resources`.
"""

import dagster as dg

from assets import keys
from assets.common import DATA_ENGINEERING, WAREHOUSE_POOL, progress, readable_failures
from assets.resources import Workspace
from instep.indicators import build_indicator_tables
from instep.indicators.checks import park_sum_mismatches

GROUP = "indicators"
# Data quality reads the row states, so the ledger's blocking check guards the indicators too.
UPSTREAM = [keys.OBSERVATIONS, keys.SUBMISSION_ROWS, keys.REGISTRY]

DESCRIPTIONS = {
    keys.WASTEWATER_RESULTS: (
        "Each discharge sample result with the ZDHC limits and the strictest level demonstrably met "
        "(all facilities, before disclosure)."
    ),
    keys.FACILITY_MONTHLY: (
        "Energy, GHG (Scope 1, biogenic memo, Scope 2 location- and market-based), water, wastewater, "
        "chemicals, waste, workforce, safety and grievance indicators per facility and month."
    ),
    keys.DATA_QUALITY: (
        "Expected and reported facility-months, first-time acceptance and row fates per park and year."
    ),
    keys.PARK_MONTHLY: (
        "Park sums per month over all facilities (shared plants once; central-boiler steam not added "
        "again), ratios of sums, reporting coverage."
    ),
    keys.PARK_COVERAGE: (
        "Expected and included facility-months per park, year and topic: how much of each park total is "
        "there; totals below the coverage threshold are flagged and not scored."
    ),
    keys.PARK_ANNUAL: (
        "Park sums per year, ratios of sums, like-for-like change of intensities against the previous "
        "year, data completeness, first-time acceptance and whether the year is complete: the input of "
        "the scorecards."
    ),
}
PARK_SUMS_MATCH = "park_sums_match_facility_sums"


@dg.multi_asset(
    name="indicator_tables",
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    specs=[
        dg.AssetSpec(
            key,
            deps=UPSTREAM,
            kinds={"duckdb"},
            owners=[DATA_ENGINEERING],
            description=description,
        )
        for key, description in DESCRIPTIONS.items()
    ],
    check_specs=[
        dg.AssetCheckSpec(
            PARK_SUMS_MATCH,
            asset=keys.PARK_MONTHLY,
            blocking=True,
            description=(
                "Park-month totals (energy, Scope 1 and 2, water, output, hours) equal the sums of their "
                "facilities, central-boiler steam taken out once. Blocking: scorecards are not computed "
                "from inconsistent park sums."
            ),
        )
    ],
)
@readable_failures
def indicator_tables(context: dg.AssetExecutionContext, instep: Workspace):
    settings = instep.settings()
    with instep.warehouse() as con:
        progress(context, f"indicators: computing from observations (GWP set {settings.gwp_set})")
        build = build_indicator_tables(con, settings)
        rows, plan = build.rows, build.plan
        coverage = con.execute(
            "SELECT count(DISTINCT park_id), min(period), max(period), "
            "count(*) FILTER (WHERE grid_factor_fallback) FROM out_park_monthly"
        ).fetchall()[0]
        mismatches = park_sum_mismatches(con)
    scope = (
        f"full build ({plan.reason})"
        if plan.full
        else f"recomputed {plan.facility_months} facility-months, {plan.park_months} park-months, "
        f"{plan.park_years} park-years"
    )
    progress(context, f"indicators: {scope}; " + ", ".join(f"{t} {n}" for t, n in rows.items()))
    for key in DESCRIPTIONS:
        metadata: dict[str, object] = {
            "dagster/row_count": rows[keys.table_of(key)],
            "gwp_set": settings.gwp_set,
            "full_build": plan.full,
            "full_build_reason": plan.reason,
            "facility_months_recomputed": plan.facility_months,
            "park_months_recomputed": plan.park_months,
            "park_years_recomputed": plan.park_years,
            "park_tables_whole": plan.park_tables_whole,
        }
        if key == keys.PARK_MONTHLY:
            metadata |= {
                "parks": coverage[0],
                "first_period": coverage[1] or "",
                "last_period": coverage[2] or "",
                "park_months_with_grid_factor_fallback": coverage[3],
            }
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)
    yield dg.AssetCheckResult(
        check_name=PARK_SUMS_MATCH,
        asset_key=keys.PARK_MONTHLY,
        passed=not mismatches,
        metadata={"mismatches": len(mismatches), "first_mismatches": [str(m) for m in mismatches[:20]]},
    )
