"""Scorecards: the versioned rubric applied to each park and year (`out_scorecards`).

Thin: scoring is pure Python in `instep.scoring`; it reads the published park_annual (`pub_park_annual`,
disclosure applied once, by `pub_tables`), and the scorecards are published as scored.
"""

import dagster as dg

from assets import keys
from assets.common import DATA_ENGINEERING, METHODOLOGY, WAREHOUSE_POOL, progress, readable_failures
from assets.resources import Workspace
from instep.disclosure import publish_resource
from instep.scoring import build_scorecards

GROUP = "scorecards"


@dg.asset(
    key=keys.SCORECARDS,
    group_name=GROUP,
    deps=[keys.PUB_TABLES],
    kinds={"duckdb", "python"},
    owners=[METHODOLOGY, DATA_ENGINEERING],
    pool=WAREHOUSE_POOL,
    description=(
        "Per park and year: each rubric indicator's value, floor, target and score (0-100, linear, "
        "clamped; n/a with a reason when there is no value), pillar means and the weighted overall score, "
        "with the rubric version and GWP set on every row; scored from the published park_annual and "
        "published as `pub_scorecards`."
    ),
)
@readable_failures
def out_scorecards(context: dg.AssetExecutionContext, instep: Workspace) -> dg.MaterializeResult:
    settings = instep.settings()
    with instep.warehouse() as con:
        rows = build_scorecards(con, settings.rubric_version, settings.gwp_set)
        publish_resource(con, "scorecards")
        status = dict(con.execute("SELECT status, count(*) FROM out_scorecards GROUP BY status").fetchall())
        park_years = con.execute("SELECT count(DISTINCT (park_id, year)) FROM out_scorecards").fetchall()[0][
            0
        ]
    progress(context, f"scorecards: {park_years} park-years scored with rubric v{settings.rubric_version}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "park_years": park_years,
            "components_scored": status.get("scored", 0),
            "components_na": status.get("n/a", 0),
            "rubric_version": settings.rubric_version,
            "gwp_set": settings.gwp_set,
        }
    )


@dg.asset_check(
    asset=out_scorecards,
    pool=WAREHOUSE_POOL,
    description="Every score is between 0 and 100; n/a rows have no score and a reason.",
)
@readable_failures
def scores_within_bounds(instep: Workspace) -> dg.AssetCheckResult:
    with instep.warehouse() as con:
        bad = con.execute(
            "SELECT park_id, year, pillar, component FROM out_scorecards WHERE "
            "(status = 'scored' AND (score IS NULL OR score < 0 OR score > 100)) OR "
            "(status = 'n/a' AND (score IS NOT NULL OR na_reason IS NULL)) ORDER BY ALL"
        ).fetchall()
    return dg.AssetCheckResult(
        passed=not bad, metadata={"rows_failing": len(bad), "first_failing": [str(b) for b in bad[:20]]}
    )
