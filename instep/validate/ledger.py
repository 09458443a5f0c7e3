"""The ledger after settling: what a batch settled, row states per file, and the rows that break one of
the ledger's invariants."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


def row_state_counts(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """Per file: rows read and rows in each state; the states always add up to rows read."""
    return con.sql(
        """
        SELECT f.submission_id, f.original_name, f.status, f.rows_read,
               count(r.row_number) FILTER (WHERE r.state = 'accepted') AS accepted,
               count(r.row_number) FILTER (WHERE r.state = 'rejected') AS rejected,
               count(r.row_number) FILTER (WHERE r.state = 'superseded') AS superseded
        FROM submission_files AS f
        LEFT JOIN submission_rows AS r USING (submission_id)
        GROUP BY f.submission_id, f.original_name, f.status, f.rows_read, f.file_seq ORDER BY f.file_seq
        """
    )


ACCEPTED_WITHOUT_OBSERVATION = "accepted row without its observation"
OBSERVATION_WITHOUT_ACCEPTED = "observation without an accepted row"
# Accepted rows and observations match one to one: one outer join finds the rows missing on either side
# (two anti-joins of the two largest tables cost twice as much).
ACCEPTED_ROWS_AND_OBSERVATIONS = f"""
    SELECT coalesce(r.submission_id, o.submission_id), coalesce(r.row_number, o.row_number),
           CASE WHEN o.submission_id IS NULL THEN '{ACCEPTED_WITHOUT_OBSERVATION}'
                ELSE '{OBSERVATION_WITHOUT_ACCEPTED}' END
    FROM (SELECT submission_id, row_number FROM submission_rows WHERE state = 'accepted') AS r
    FULL JOIN (SELECT submission_id, row_number FROM observations) AS o USING (submission_id, row_number)
    WHERE r.submission_id IS NULL OR o.submission_id IS NULL"""
# The other row-level invariants of the ledger: each query lists rows that break one.
LEDGER_ROW_PROBLEMS = {
    "rejected row without a rule, message or recorded issue": """
        SELECT r.submission_id, r.row_number FROM submission_rows AS r
        WHERE r.state = 'rejected' AND (r.rule IS NULL OR r.message IS NULL OR NOT EXISTS (
            SELECT 1 FROM row_issues AS i
            WHERE i.submission_id = r.submission_id AND i.row_number = r.row_number AND i.rule = r.rule))""",
    "superseded row without the submission that restated it": """
        SELECT r.submission_id, r.row_number FROM submission_rows AS r
        WHERE r.state = 'superseded' AND (r.superseded_by IS NULL
            OR r.superseded_by NOT IN (SELECT submission_id FROM submission_files))""",
    "row of a file that is not in submission_files or was rejected as a whole": """
        SELECT r.submission_id, r.row_number FROM submission_rows AS r
        LEFT JOIN submission_files AS f USING (submission_id)
        WHERE f.submission_id IS NULL OR f.status <> 'ingested'""",
    "row still waiting for validation (staged, in no state)": """
        SELECT submission_id, row_number FROM staged_rows""",
}


def ledger_row_problems(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int, str]]:
    """(submission_id, row_number, problem) for every row that breaks an invariant, sorted."""
    problems: list[tuple[str, int, str]] = con.execute(ACCEPTED_ROWS_AND_OBSERVATIONS).fetchall()
    for problem, sql in LEDGER_ROW_PROBLEMS.items():
        problems += [(sid, row, problem) for sid, row in con.execute(sql).fetchall()]
    return sorted(problems)


def file_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The original file name of every submission, by submission_id."""
    return dict(con.execute("SELECT submission_id, original_name FROM submission_files").fetchall())


def staged_submissions(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The submissions whose rows wait in `staged_rows`: the batch the next settling judges."""
    return [row[0] for row in con.execute("SELECT DISTINCT submission_id FROM staged_rows").fetchall()]


@dataclass(frozen=True)
class BatchOutcome:
    """What settling a batch of submissions left in the ledger, and the ledger's totals after it."""

    rejected_by_rule: dict[str, int]  # rejected rows by their primary rule
    issues_by_rule: dict[str, int]  # failed rules on rows, every rule of a row counted
    rejected_rows: list[tuple[str, int, str, str]]  # file, line, rule, message of the first rows
    rows_accepted_total: int
    rows_rejected_total: int
    rows_superseded_total: int
    rows_total: int
    observations: int
    facilities_reporting: int
    first_period: str | None
    last_period: str | None


def batch_outcome(con: duckdb.DuckDBPyConnection, batch: list[str], listed_rows: int) -> BatchOutcome:
    """The outcome of settling the submissions `batch`, with at most `listed_rows` rejected rows listed."""
    rejected_by_rule = dict(
        con.execute(
            "SELECT rule, count(*) FROM submission_rows WHERE state = 'rejected' "
            "AND submission_id IN (SELECT unnest(?)) GROUP BY rule",
            [batch],
        ).fetchall()
    )
    issues_by_rule = dict(
        con.execute(
            "SELECT rule, count(*) FROM row_issues WHERE submission_id IN (SELECT unnest(?)) GROUP BY rule",
            [batch],
        ).fetchall()
    )
    listed = con.execute(
        """
        SELECT f.original_name, r.row_number + 1 AS line, r.rule, r.message
        FROM submission_rows AS r JOIN submission_files AS f USING (submission_id)
        WHERE r.state = 'rejected' AND r.submission_id IN (SELECT unnest(?))
        ORDER BY f.file_seq, r.row_number LIMIT ?
        """,
        [batch, listed_rows],
    ).fetchall()
    totals = con.execute(
        "SELECT count(*) FILTER (WHERE state = 'accepted'), count(*) FILTER (WHERE state = 'rejected'), "
        "count(*) FILTER (WHERE state = 'superseded'), count(*) FROM submission_rows"
    ).fetchall()[0]
    observations = con.execute(
        "SELECT count(*), count(DISTINCT facility_id), min(period), max(period) FROM observations"
    ).fetchall()[0]
    return BatchOutcome(rejected_by_rule, issues_by_rule, listed, *totals, *observations)
