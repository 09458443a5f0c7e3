"""Settling: every staged row validated and moved into exactly one state, in one transaction per chunk.

`settle_staged_rows` validates the staged rows, records every failed rule in `row_issues`, moves each row
into `submission_rows` as accepted or rejected, lets a later accepted row supersede an earlier one with
the same key, and keeps `observations` equal to the accepted rows in canonical units. A crash rolls back
the chunk being settled; the rows wait in `staged_rows` for the next run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date

import duckdb

from instep.confirmations import restage_confirmed_rows
from instep.validate.messages import describe_issues
from instep.validate.suite import SuiteRunner, validate_staged


@dataclass(frozen=True)
class SettleSummary:
    rows: int
    accepted: int
    rejected: int
    superseded: int
    issues: int
    # Facilities named by the rows of the batch (the observations they can change), trimmed, sorted.
    facilities: tuple[str, ...] = ()
    # Wall-clock seconds of each phase over the chunks: those of validate_staged (suite.PHASES), the
    # wording of every failed rule (`describe_issues`) and the transaction that settles the rows.
    seconds: dict[str, float] = field(default_factory=dict, compare=False)


# Accepted rows of this batch with their key and canonical value; `winner` marks the latest per key.
NEW_ACCEPTED_SQL = """
CREATE OR REPLACE TEMP TABLE _new_accepted AS
SELECT
    p.submission_id, p.file_seq, p.row_number, p.facility_id, f.park_id, p.period,
    make_date(p.period_index // 12, p.period_index % 12 + 1, 1) AS period_start,
    p.period_index // 12 AS year,
    p.metric, p.topic, p.value_canonical AS value, p.canonical_unit AS unit, p.censored,
    p.value AS submitted_value, p.unit AS submitted_unit, p.sample_point,
    try_strptime(p.sample_date, '%Y-%m-%d')::DATE AS sample_date,
    p.sample_point_key, p.sample_date_key,
    row_number() OVER latest = 1 AS winner,
    first_value(p.submission_id) OVER latest AS winner_submission
FROM _v_prepared AS p
JOIN facilities AS f USING (facility_id)
WHERE NOT EXISTS (
    SELECT 1 FROM _rejected AS r WHERE r.submission_id = p.submission_id AND r.row_number = p.row_number
)
WINDOW latest AS (
    PARTITION BY p.facility_id, p.period, p.metric, p.sample_point_key, p.sample_date_key
    ORDER BY p.file_seq DESC
)
"""


# Staged rows are settled in chunks of whole files of at most this many rows (a larger file is a chunk
# of its own), so memory stays bounded whatever the size of the inbox: the prepared rows of one chunk are
# what the submission suite holds in memory at a time.
SETTLE_CHUNK_ROWS = 1_000_000


def file_chunks(rows_per_file: list[tuple[int, int]], max_rows: int) -> list[tuple[int, int]]:
    """(first file_seq, last file_seq) ranges of consecutive files with at most `max_rows` rows each."""
    chunks: list[list[int]] = []
    total = 0
    for seq, rows in rows_per_file:
        if chunks and total + rows <= max_rows:
            chunks[-1][1] = seq
            total += rows
        else:
            chunks.append([seq, seq])
            total = rows
    return [(first, last) for first, last in chunks]


def settle_staged_rows(
    con: duckdb.DuckDBPyConnection, as_of: date, chunk_rows: int = SETTLE_CHUNK_ROWS
) -> SettleSummary:
    """Validate staged rows and settle each in exactly one state.

    Files are settled in ingest order, in chunks of whole files (see SETTLE_CHUNK_ROWS), each chunk one
    transaction: the outcome is that of settling the files one run after another, as the inbox sensor
    does. A later chunk's restatement supersedes the accepted row of an earlier chunk, and that row names
    the submission that restated it.
    """
    restage_confirmed_rows(con)
    facilities = tuple(
        row[0]
        for row in con.execute(
            "SELECT DISTINCT trim(facility_id) AS f FROM staged_rows WHERE nullif(f, '') IS NOT NULL "
            "ORDER BY f"
        ).fetchall()
    )
    rows_per_file = con.execute(
        "SELECT file_seq, count(*) FROM staged_rows GROUP BY file_seq ORDER BY file_seq"
    ).fetchall()
    totals = [0, 0, 0, 0, 0]
    seconds: dict[str, float] = {}
    since = rows_per_file[0][0] if rows_per_file else 0
    with SuiteRunner() as runner:
        for first, last in file_chunks(rows_per_file, chunk_rows):
            *chunk, restated_in_batch = _settle_chunk(
                con, as_of, int(first), int(last), int(since), runner, seconds
            )
            totals = [a + b for a, b in zip(totals, chunk, strict=True)]
            # A row accepted by an earlier chunk and restated by this one counts once, as superseded.
            totals[1] -= restated_in_batch
    con.execute("DROP VIEW IF EXISTS _settle_chunk")
    return SettleSummary(*totals, facilities=facilities, seconds=seconds)


def _settle_chunk(
    con: duckdb.DuckDBPyConnection,
    as_of: date,
    first: int,
    last: int,
    since: int,
    runner: SuiteRunner,
    seconds: dict[str, float],
) -> tuple[int, ...]:
    """Validate and settle the staged rows of files `first`..`last` (file_seq), in one transaction.

    Returns rows, accepted, rejected, superseded, issues, and how many of the restated rows belong to
    files from `since` on (settled by an earlier chunk of the same batch).
    """
    staged_table = "_settle_chunk"
    in_chunk = f"file_seq BETWEEN {first} AND {last}"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {staged_table} AS SELECT * FROM staged_rows WHERE {in_chunk}")
    staged = con.execute(f"SELECT count(*) FROM {staged_table}").fetchall()[0][0]
    if staged == 0:
        return (0, 0, 0, 0, 0, 0)
    outcome = validate_staged(con, staged_table, as_of, runner)
    for phase, spent in outcome.seconds.items():
        seconds[phase] = seconds.get(phase, 0.0) + spent
    started = time.perf_counter()
    detailed = describe_issues(con, outcome.issues)
    described = time.perf_counter()
    seconds["describe_issues"] = seconds.get("describe_issues", 0.0) + described - started
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("_issue_details", detailed)
        con.execute(
            'INSERT INTO row_issues SELECT submission_id, row_number, "column", rule, value, expected, '
            "message FROM _issue_details"
        )
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _rejected AS
            SELECT submission_id, row_number, arg_min(rule, rule_order) AS rule,
                   arg_min(message, rule_order) AS message
            FROM _issue_details GROUP BY submission_id, row_number
            """
        )
        con.unregister("_issue_details")
        con.execute(NEW_ACCEPTED_SQL)
        # Earlier accepted rows restated by this batch's winners become superseded.
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _restated AS
            SELECT o.submission_id, o.row_number, w.submission_id AS superseded_by
            FROM observations AS o
            JOIN _new_accepted AS w
              ON w.winner AND o.facility_id = w.facility_id AND o.period = w.period AND o.metric = w.metric
             AND coalesce(o.sample_point, '') = w.sample_point_key
             AND coalesce(strftime(o.sample_date, '%Y-%m-%d'), '') = w.sample_date_key
            """
        )
        con.execute(
            """
            UPDATE submission_rows AS s SET state = 'superseded', superseded_by = r.superseded_by
            FROM _restated AS r WHERE s.submission_id = r.submission_id AND s.row_number = r.row_number
            """
        )
        con.execute(
            """
            DELETE FROM observations AS o USING _restated AS r
            WHERE o.submission_id = r.submission_id AND o.row_number = r.row_number
            """
        )
        con.execute(
            f"""
            INSERT INTO submission_rows
            SELECT s.submission_id, s.file_seq, s.row_number, s.facility_id, s.period, s.metric, s.value,
                   s.unit, s.sample_point, s.sample_date, s.comment,
                   CASE WHEN r.rule IS NOT NULL THEN 'rejected'
                        WHEN a.winner THEN 'accepted' ELSE 'superseded' END,
                   r.rule, r.message,
                   CASE WHEN r.rule IS NULL AND NOT a.winner THEN a.winner_submission END
            FROM {staged_table} AS s
            LEFT JOIN _rejected AS r USING (submission_id, row_number)
            LEFT JOIN _new_accepted AS a USING (submission_id, row_number)
            """
        )
        con.execute(
            """
            INSERT INTO observations
            SELECT submission_id, row_number, facility_id, park_id, period, period_start, year, metric, topic,
                   value, unit, censored, submitted_value, submitted_unit, sample_point, sample_date
            FROM _new_accepted WHERE winner
            """
        )
        con.execute(f"DELETE FROM staged_rows WHERE {in_chunk}")
        counts = con.execute(
            """
            SELECT count(*) FILTER (WHERE r.rule IS NULL AND a.winner),
                   count(*) FILTER (WHERE r.rule IS NOT NULL),
                   count(*) FILTER (WHERE r.rule IS NULL AND NOT a.winner)
            FROM _v_prepared AS p
            LEFT JOIN _rejected AS r USING (submission_id, row_number)
            LEFT JOIN _new_accepted AS a USING (submission_id, row_number)
            """
        ).fetchall()[0]
        restated, restated_in_batch = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE f.file_seq >= ?) FROM _restated "
            "JOIN submission_files AS f USING (submission_id)",
            [since],
        ).fetchall()[0]
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    seconds["settle_rows"] = seconds.get("settle_rows", 0.0) + time.perf_counter() - described
    return (staged, counts[0], counts[1], counts[2] + restated, len(detailed), restated_in_batch)
