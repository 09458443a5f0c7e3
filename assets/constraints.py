"""Constraint checks of every warehouse table, derived from the metadata model (`instep.metadata.checks`).

One check per table, `<table>_constraints`, on the asset that writes the table: each counts the rows that
break a constraint of the model (not null, unique keys, enum, pattern, foreign keys), except those DuckDB
holds on the table itself (its DDL's NOT NULL and keys: no write breaking them commits). One op runs the
checks of the tables one step writes, over one connection (`_SHARED_OPS`; one op per asset otherwise).
Not blocking: the stage checks that guard what is computed (row states, the observation suite, park
sums) stay the gates; these report a broken constraint.
"""

from collections.abc import Iterator, Mapping

import dagster as dg

from assets import keys
from assets.common import WAREHOUSE_POOL, markdown_table, progress
from assets.resources import Workspace
from instep.disclosure import FROM_PUBLISHED
from instep.metadata.catalog import warehouse_table
from instep.metadata.checks import run_constraint_checks
from instep.metadata.model import Resource
from instep.metadata.resources import COMPUTED_RESOURCES, RESOURCES

_INDICATOR_KEYS = {
    keys.table_of(key): key
    for key in (
        keys.WASTEWATER_RESULTS,
        keys.FACILITY_MONTHLY,
        keys.DATA_QUALITY,
        keys.PARK_MONTHLY,
        keys.PARK_COVERAGE,
        keys.PARK_ANNUAL,
        keys.SCORECARDS,
    )
}

# The warehouse tables each asset writes (the scorecards asset also publishes pub_scorecards).
TABLES_BY_ASSET: dict[dg.AssetKey, tuple[str, ...]] = {
    keys.REGISTRY: ("parks", "facilities", "confirmations"),
    keys.SUBMISSION_FILES: ("submission_files", "inbox_fingerprints", "staged_rows"),
    keys.SUBMISSION_ROWS: ("submission_rows", "row_issues"),
    keys.OBSERVATIONS: ("observations",),
    **{_INDICATOR_KEYS[f"out_{r.name}"]: (f"out_{r.name}",) for r in COMPUTED_RESOURCES},
    keys.PUB_TABLES: (
        "disclosure_withheld",
        *(f"pub_{r.name}" for r in RESOURCES if r.name not in FROM_PUBLISHED),
    ),
}
TABLES_BY_ASSET[keys.SCORECARDS] += tuple(f"pub_{name}" for name in sorted(FROM_PUBLISHED))
# The indicator build writes its watermark with the tables; checked with the first of them.
TABLES_BY_ASSET[keys.WASTEWATER_RESULTS] += ("indicator_watermark",)


def check_name(table: Resource) -> str:
    return f"{table.name}_constraints"


def _constraint_checks(
    name: str, tables_by_key: Mapping[dg.AssetKey, tuple[Resource, ...]]
) -> dg.AssetChecksDefinition:
    checked = [(key, table) for key, tables in tables_by_key.items() for table in tables]

    @dg.multi_asset_check(
        name=name,
        specs=[
            dg.AssetCheckSpec(
                check_name(table),
                asset=key,
                description=(
                    f"Every constraint the metadata model gives `{table.name}` holds: required columns "
                    "filled, keys unique, enums and patterns respected, foreign keys resolved."
                ),
            )
            for key, table in checked
        ],
        can_subset=True,
        pool=WAREHOUSE_POOL,
    )
    def _check(context: dg.AssetCheckExecutionContext, instep: Workspace) -> Iterator[dg.AssetCheckResult]:
        selected = {(k.asset_key, k.name) for k in context.selected_asset_check_keys}
        with instep.warehouse(bounded=True) as con:
            for key, table in checked:
                if (key, check_name(table)) not in selected:
                    continue
                outcomes = run_constraint_checks(con, table)
                failing = [o for o in outcomes if o.failing_rows]
                if failing:
                    progress(
                        context,
                        f"check FAILED: {table.name} breaks {len(failing)} constraints of the model: "
                        + "; ".join(f"{o.check.name} {o.failing_rows} rows" for o in failing),
                    )
                yield dg.AssetCheckResult(
                    check_name=check_name(table),
                    asset_key=key,
                    passed=not failing,
                    metadata={
                        "constraints_checked": len(outcomes),
                        "constraints_held_by_duckdb": sum(o.enforced for o in outcomes),
                        "constraints_held_by_other_checks": ", ".join(
                            f"{o.check.name}: {o.held_by}" for o in outcomes if o.held_by
                        ),
                        "constraints_failing": len(failing),
                        "failing": markdown_table(
                            ["constraint", "rows breaking it"],
                            [(o.check.description, o.failing_rows) for o in failing],
                        ),
                    },
                )

    return _check


def _tables(key: dg.AssetKey) -> tuple[Resource, ...]:
    return tuple(warehouse_table(name) for name in TABLES_BY_ASSET[key])


# One op per step of the run that writes the tables: the ingest step (registry and submission files),
# settling (its multi-asset writes the ledger rows and the observations) and the indicator build (one op
# writes them all). A step of its own per table cost more than its checks on an incremental run.
_ONE_OP = tuple(key for key in _INDICATOR_KEYS.values() if key != keys.SCORECARDS)
_SHARED_OPS = {
    "ingest_tables_constraints": (keys.REGISTRY, keys.SUBMISSION_FILES),
    "settled_tables_constraints": (keys.SUBMISSION_ROWS, keys.OBSERVATIONS),
    "indicator_tables_constraints": _ONE_OP,
}
_SHARED = {key for op_keys in _SHARED_OPS.values() for key in op_keys}
CONSTRAINT_CHECKS = (
    *(
        _constraint_checks(name, {key: _tables(key) for key in op_keys})
        for name, op_keys in _SHARED_OPS.items()
    ),
    *(
        _constraint_checks(f"{key.to_python_identifier()}_constraints", {key: _tables(key)})
        for key in TABLES_BY_ASSET
        if key not in _SHARED
    ),
)
