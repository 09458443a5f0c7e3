"""Rows the steward confirmed: a value rejected as `implausible_change` that the registry's
confirmations.csv now names is judged again on the next run (and accepted unless another rule fails).

Only rows whose every failed rule was `implausible_change` are taken back, and only while no later
submission has restated their facility, period, metric and sample: a confirmation never brings back a
value that a newer one replaced.
"""

from __future__ import annotations

import duckdb

CONFIRMED_REJECTIONS_SQL = """
CREATE OR REPLACE TEMP TABLE _confirmed AS
SELECT r.submission_id, r.row_number
FROM submission_rows AS r
WHERE r.state = 'rejected' AND r.rule = 'implausible_change'
  AND NOT EXISTS (
      SELECT 1 FROM row_issues AS i
      WHERE i.submission_id = r.submission_id AND i.row_number = r.row_number
        AND i.rule <> 'implausible_change'
  )
  AND EXISTS (
      SELECT 1 FROM confirmations AS c
      WHERE (c.submission_id = r.submission_id AND c.row_number = r.row_number)
         OR (c.facility_id = trim(r.facility_id) AND c.period = trim(r.period) AND c.metric = trim(r.metric))
  )
  AND NOT EXISTS (
      SELECT 1 FROM submission_rows AS later
      WHERE later.file_seq > r.file_seq AND later.state <> 'rejected'
        AND trim(later.facility_id) = trim(r.facility_id) AND trim(later.period) = trim(r.period)
        AND trim(later.metric) = trim(r.metric)
        AND coalesce(trim(later.sample_point), '') = coalesce(trim(r.sample_point), '')
        AND coalesce(trim(later.sample_date), '') = coalesce(trim(r.sample_date), '')
  )
"""


def restage_confirmed_rows(con: duckdb.DuckDBPyConnection) -> int:
    """Move confirmed `implausible_change` rejections back to `staged_rows`; returns how many."""
    tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if not {"confirmations", "submission_rows", "row_issues", "staged_rows"} <= tables:
        return 0
    con.execute(CONFIRMED_REJECTIONS_SQL)
    count = con.execute("SELECT count(*) FROM _confirmed").fetchall()[0][0]
    if count:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(
                """
                INSERT INTO staged_rows
                SELECT r.submission_id, r.file_seq, r.row_number, r.facility_id, r.period, r.metric, r.value,
                       r.unit, r.sample_point, r.sample_date, r.comment, false
                FROM submission_rows AS r JOIN _confirmed USING (submission_id, row_number)
                """
            )
            for table in ("row_issues", "submission_rows"):
                con.execute(
                    f"DELETE FROM {table} AS t USING _confirmed AS c "
                    "WHERE t.submission_id = c.submission_id AND t.row_number = c.row_number"
                )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    con.execute("DROP TABLE _confirmed")
    return int(count)
