"""The observation suite: what every accepted value in the warehouse's `observations` must be.

Submissions are judged by the submission suite; this second suite guards the result of ingestion before
anything is computed from it: each observation belongs to a facility of the registry (and to its park), is
in the metric's canonical unit, lies between zero and the metric's plausible monthly maximum, and is the
only value for its key (facility, period, metric, sample point, sample date). A failure here means the
warehouse is inconsistent (a registry edit, a manual change, a bug), never a factory's mistake.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from expectations import ROW_RESULT_FORMAT, flagged_rows
from expectations.frames import arrow_to_frame, validate_frame
from expectations.sql import column_types, compilable, compile_suite, drop_value_sets, flagged_by_sql
from instep import reference

if TYPE_CHECKING:
    import great_expectations as gx
    import great_expectations.expectations as gxe

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
OBSERVATION_ROWS_SQL = """
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
"""
# One partition of the facilities, or the facilities of a batch, in the order of the ledger.
PARTITION_SQL = (
    OBSERVATION_ROWS_SQL
    + """
WHERE hash(o.facility_id) % $partitions = $partition
ORDER BY o.submission_id, o.row_number
"""
)
BATCH_SQL = (
    OBSERVATION_ROWS_SQL
    + """
WHERE o.facility_id IN (SELECT unnest($facilities))
ORDER BY o.submission_id, o.row_number
"""
)

# The observations are checked in partitions of whole facilities of about this many rows, so memory stays
# bounded at any scale. Every expectation judges a row or a key, and a key holds one facility: the
# partitions together find exactly the failures that checking all rows at once finds. For the same
# reason, the observations of the facilities a batch touched are all the suite needs to judge the batch.
CHECK_PARTITION_ROWS = 1_000_000


@dataclass(frozen=True)
class ObservationFailure:
    submission_id: str
    row_number: int
    expectation: str
    expected: str


def _meta(expectation: str) -> dict[str, str]:
    return {"expectation": expectation}


def observation_expectations(facility_parks: Iterable[tuple[str, str]]) -> list[gxe.Expectation]:
    """The expectations on accepted observations, for the registry's (facility_id, park_id) pairs."""
    import great_expectations.expectations as gxe

    pairs = sorted(set(facility_parks))
    catalogue = reference.metrics()
    return [
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
    ]


def build_observation_suite(facility_parks: Iterable[tuple[str, str]]) -> gx.ExpectationSuite:
    """The observation suite (build it inside a Great Expectations context)."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=SUITE_NAME)
    for expectation in observation_expectations(facility_parks):
        suite.add_expectation(expectation)
    return suite


def _register_metrics(con: duckdb.DuckDBPyConnection) -> None:
    metrics = pd.DataFrame(
        [
            {"metric": code, "plausible_max": m.plausible_max_per_month}
            for code, m in reference.metrics().items()
        ]
    )
    con.register("_obs_metrics_df", metrics)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE _obs_metrics AS SELECT * FROM _obs_metrics_df")
    finally:
        con.unregister("_obs_metrics_df")


def observation_frame(
    con: duckdb.DuckDBPyConnection, partition: int = 0, partitions: int = 1
) -> pd.DataFrame:
    """The observations of one partition of the facilities (all of them by default), for the suite."""
    _register_metrics(con)
    relation = con.sql(PARTITION_SQL, params={"partition": partition, "partitions": partitions})
    return arrow_to_frame(relation.to_arrow_table())


def _facility_parks(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return con.execute("SELECT facility_id, park_id FROM facilities").fetchall()


def check_observations(con: duckdb.DuckDBPyConnection) -> tuple[int, list[ObservationFailure]]:
    """The suite on every observation of the warehouse, with Great Expectations: (rows checked, one
    failure per row and expectation). The reference the batch-scoped check is measured against."""
    total = con.execute("SELECT count(*) FROM observations").fetchall()[0][0]
    if total == 0:
        return 0, []
    facility_parks = _facility_parks(con)
    partitions = -(-total // CHECK_PARTITION_ROWS)
    failures: list[ObservationFailure] = []
    for partition in range(partitions):
        frame = observation_frame(con, partition, partitions)
        if not frame.empty:
            failures += run_observation_suite(frame, facility_parks)
    return total, _sorted(failures)


def _sorted(failures: Iterable[ObservationFailure]) -> list[ObservationFailure]:
    return sorted(set(failures), key=lambda f: (f.submission_id, f.row_number, f.expectation))


def batch_facilities(con: duckdb.DuckDBPyConnection, submissions: Sequence[str]) -> list[str]:
    """The facilities whose observations a batch of submissions changed: their accepted rows, and the
    rows they restated (the same facility, period, metric and sample)."""
    return [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT trim(facility_id) FROM submission_rows "
            "WHERE submission_id IN (SELECT unnest(?)) AND state <> 'rejected' ORDER BY 1",
            [list(submissions)],
        ).fetchall()
    ]


def invariant_failures(con: duckdb.DuckDBPyConnection) -> list[ObservationFailure]:
    """Every expectation of the suite over all observations, as set-based SQL in DuckDB (see
    `expectations.sql`): cheap enough to run on the whole warehouse after every batch, so a row changed
    outside ingestion, in any partition, is still found."""
    _register_metrics(con)
    con.execute(f"CREATE OR REPLACE TEMP VIEW _obs_rows AS {OBSERVATION_ROWS_SQL}")
    expectations = observation_expectations(_facility_parks(con))
    compiled = compile_suite(expectations, "_obs_rows", column_types(con, "_obs_rows"), prefix="_obs_set")
    not_compiled = [e.meta["expectation"] for e in expectations if not compilable(e)]
    if not_compiled:
        raise RuntimeError(f"observation expectations without SQL: {', '.join(not_compiled)}")
    try:
        rows = flagged_by_sql(con, compiled).fetchall()
    finally:
        drop_value_sets(con, compiled)
        con.execute("DROP VIEW IF EXISTS _obs_rows")
    failures = []
    for submission_id, row_number, index in rows:
        expectation = compiled.expectations[index].meta["expectation"]
        failures.append(
            ObservationFailure(submission_id, int(row_number), expectation, EXPECTATIONS[expectation])
        )
    return _sorted(failures)


@dataclass(frozen=True)
class BatchCheck:
    """What the observation check found: the suite on the batch, the invariants on the warehouse."""

    batch_rows: int  # observations of the batch's facilities, judged by Great Expectations
    warehouse_rows: int  # all observations, judged by the suite's SQL (a rebuild's batch, too)
    batch_failures: list[ObservationFailure]
    invariant_failures: list[ObservationFailure]

    @property
    def failures(self) -> list[ObservationFailure]:
        return _sorted([*self.batch_failures, *self.invariant_failures])


def check_observations_of_batch(
    con: duckdb.DuckDBPyConnection, facilities: Sequence[str] | None
) -> BatchCheck:
    """The suite, with Great Expectations, on the observations of the facilities a batch touched
    (`batch_facilities`), and its SQL on the whole warehouse.

    Together they flag exactly what `check_observations` flags: each expectation judges a row or a key
    of one facility, so the batch's facilities judged whole give their failures, and the SQL gives the
    failures anywhere else (a row changed by hand, a registry edit). A batch too large to list
    (`facilities` None: a rebuild) is all of the warehouse: the SQL judges it, with the same
    expectations, instead of a pandas frame of every observation (seconds for millions of rows).
    """
    warehouse_rows = con.execute("SELECT count(*) FROM observations").fetchall()[0][0]
    everywhere = invariant_failures(con)
    if facilities is None:
        return BatchCheck(warehouse_rows, warehouse_rows, everywhere, everywhere)
    batch: list[ObservationFailure] = []
    batch_rows = 0
    if facilities:
        _register_metrics(con)
        frame = arrow_to_frame(con.sql(BATCH_SQL, params={"facilities": list(facilities)}).to_arrow_table())
        batch_rows = len(frame)
        # The frame holds the rows of the batch's facilities only, so the registry's pairs of those
        # facilities flag exactly the rows the whole registry would (a facility outside the registry is in
        # neither); Great Expectations reads a value set again for every metric it computes, which for
        # a programme's whole registry cost most of the check.
        of_batch = set(facilities)
        pairs = [pair for pair in _facility_parks(con) if pair[0] in of_batch]
        batch = run_observation_suite(frame, pairs) if batch_rows else []
    return BatchCheck(batch_rows, warehouse_rows, batch, everywhere)


def run_observation_suite(
    frame: pd.DataFrame, facility_parks: Iterable[tuple[str, str]]
) -> list[ObservationFailure]:
    result = validate_frame(lambda: build_observation_suite(facility_parks), frame, ROW_RESULT_FORMAT)
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
