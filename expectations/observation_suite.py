"""The observation suite: what every accepted value in the warehouse's `observations` must be.

Submissions are judged by the submission suite; this second suite guards the result of ingestion before
anything is computed from it: each observation belongs to a facility of the registry (and to its park), is
in the metric's canonical unit, lies between zero and the metric's plausible monthly maximum, and is the
only value for its key (facility, period, metric, sample point, sample date). A failure here means the
warehouse is inconsistent (a registry edit, a manual change, a bug), never a factory's mistake.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd

from expectations import ROW_RESULT_FORMAT, flagged_rows
from expectations.frames import arrow_to_frame
from instep import reference

# Usage statistics would be a request leaving the machine; the pipeline runs offline.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

SUITE_NAME = "accepted_observations"
KEY_COLUMNS = ["facility_id", "period", "metric", "sample_point_key", "sample_date_key"]

# What each expectation guards, reported with the rows that fail it.
EXPECTATIONS = {
    "value_not_finite": "a finite number in every observation (not NaN, not infinite)",
    "unknown_facility": "a facility_id from the registry",
    "facility_in_other_park": "the park_id the registry gives the facility",
    "unit_not_canonical": "the metric's canonical unit from the metric catalogue",
    "negative_value": "a value of zero or more",
    "above_plausible_range": "at most the metric's plausible monthly maximum",
    "duplicate_key": "one observation per facility, period, metric, sample point and sample date",
}

# One row per observation with the registry's and the catalogue's view of it, for the suite to judge.
OBSERVATION_FRAME_SQL = """
SELECT
    o.submission_id, o.row_number, o.facility_id, o.park_id, o.period, o.metric, o.unit, o.value,
    -- NOT NULL in the ledger still admits NaN and infinities, which no comparison below flags reliably
    CASE WHEN isfinite(o.value) THEN o.value END AS finite_value,
    o.facility_id || '|' || o.park_id AS facility_park,
    o.metric || '|' || o.unit AS metric_unit,
    m.plausible_max,
    coalesce(o.sample_point, '') AS sample_point_key,
    coalesce(strftime(o.sample_date, '%Y-%m-%d'), '') AS sample_date_key
FROM observations AS o
LEFT JOIN _obs_metrics AS m USING (metric)
WHERE hash(o.facility_id) % $partitions = $partition
ORDER BY o.submission_id, o.row_number
"""

# The observations are checked in partitions of whole facilities of about this many rows, so memory stays
# bounded at any scale. Every expectation judges a row or a key, and a key holds one facility: the
# partitions together find exactly the failures that checking all rows at once finds.
CHECK_PARTITION_ROWS = 1_000_000


@dataclass(frozen=True)
class ObservationFailure:
    submission_id: str
    row_number: int
    expectation: str
    expected: str


def _meta(expectation: str) -> dict[str, str]:
    return {"expectation": expectation}


def build_observation_suite(facility_parks: Iterable[tuple[str, str]]) -> gx.ExpectationSuite:
    """The expectations on accepted observations, for the registry's (facility_id, park_id) pairs."""
    pairs = sorted(set(facility_parks))
    catalogue = reference.metrics()
    suite = gx.ExpectationSuite(name=SUITE_NAME)
    for expectation in (
        gxe.ExpectColumnValuesToNotBeNull(column="finite_value", meta=_meta("value_not_finite")),
        gxe.ExpectColumnValuesToBeInSet(
            column="facility_id",
            value_set=sorted({facility for facility, _ in pairs}),
            meta=_meta("unknown_facility"),
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="facility_park",
            value_set=[f"{facility}|{park}" for facility, park in pairs],
            meta=_meta("facility_in_other_park"),
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="metric_unit",
            value_set=sorted(f"{code}|{m.canonical_unit}" for code, m in catalogue.items()),
            meta=_meta("unit_not_canonical"),
        ),
        gxe.ExpectColumnValuesToBeBetween(column="value", min_value=0, meta=_meta("negative_value")),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="plausible_max",
            column_B="value",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            meta=_meta("above_plausible_range"),
        ),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=KEY_COLUMNS, meta=_meta("duplicate_key")),
    ):
        suite.add_expectation(expectation)
    return suite


def observation_frame(
    con: duckdb.DuckDBPyConnection, partition: int = 0, partitions: int = 1
) -> pd.DataFrame:
    """The observations of one partition of the facilities (all of them by default), for the suite."""
    metrics = pd.DataFrame(
        [
            {"metric": code, "plausible_max": m.plausible_max_per_month}
            for code, m in reference.metrics().items()
        ]
    )
    con.register("_obs_metrics", metrics)
    try:
        relation = con.sql(OBSERVATION_FRAME_SQL, params={"partition": partition, "partitions": partitions})
        return arrow_to_frame(relation.to_arrow_table())
    finally:
        con.unregister("_obs_metrics")


def check_observations(con: duckdb.DuckDBPyConnection) -> tuple[int, list[ObservationFailure]]:
    """Run the suite on the warehouse's observations: (rows checked, one failure per row and expectation)."""
    total = con.execute("SELECT count(*) FROM observations").fetchall()[0][0]
    if total == 0:
        return 0, []
    facility_parks = con.execute("SELECT facility_id, park_id FROM facilities").fetchall()
    partitions = -(-total // CHECK_PARTITION_ROWS)
    failures: list[ObservationFailure] = []
    for partition in range(partitions):
        frame = observation_frame(con, partition, partitions)
        if not frame.empty:
            failures += run_observation_suite(frame, facility_parks)
    return total, sorted(failures, key=lambda f: (f.submission_id, f.row_number, f.expectation))


def run_observation_suite(
    frame: pd.DataFrame, facility_parks: Iterable[tuple[str, str]]
) -> list[ObservationFailure]:
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    suite = context.suites.add(build_observation_suite(facility_parks))
    batch = (
        context.data_sources.add_pandas("warehouse")
        .add_dataframe_asset("observations")
        .add_batch_definition_whole_dataframe("all_observations")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    result = batch.validate(suite, result_format=ROW_RESULT_FORMAT)
    failures = [
        ObservationFailure(
            submission_id=submission_id,
            row_number=row_number,
            expectation=meta["expectation"],
            expected=EXPECTATIONS[meta["expectation"]],
        )
        for meta, submission_id, row_number in flagged_rows(result, "expectation")
    ]
    return sorted(set(failures), key=lambda f: (f.submission_id, f.row_number, f.expectation))
