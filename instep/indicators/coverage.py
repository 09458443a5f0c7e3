"""Which facility-months were expected, which arrived, and how clean the first submission was.

The reporting window runs from the first to the last month with any accepted value in the warehouse. A
facility is expected in every month of the window in which it is active on at least one day (registry
active_from / active_to). A facility-month "reported" when it has at least one accepted value.

First-time acceptance: a facility-month counts as submitted when any row of a submission names a registry
facility and a well-formed period YYYY-MM; it is accepted first time when the earliest submission (in
ingest order) holding rows for it had none of those rows rejected. Rows naming an unknown facility or a
malformed period cannot be attributed to a park and are left out.
"""

from __future__ import annotations

import duckdb

WINDOW_SQL = """
CREATE OR REPLACE TEMP TABLE ind_window AS
WITH bounds AS (SELECT min(period_start) AS first_month, max(period_start) AS last_month FROM observations)
SELECT strftime(m, '%Y-%m') AS period, CAST(year(m) AS INTEGER) AS year, CAST(m AS DATE) AS month_start,
       CAST(last_day(m) AS DATE) AS month_end
FROM (SELECT unnest(generate_series(first_month, last_month, INTERVAL 1 MONTH)) AS m FROM bounds
      WHERE first_month IS NOT NULL)
"""

# The years with any accepted value: every park has a coverage row for each (instep.indicators.park_coverage).
YEARS_SQL = "CREATE OR REPLACE TEMP TABLE ind_years AS SELECT DISTINCT year FROM observations"

EXPECTED_SQL = """
CREATE OR REPLACE TEMP TABLE ind_expected AS
SELECT f.facility_id, f.park_id, w.period, w.year,
       EXISTS (SELECT 1 FROM observations AS o WHERE o.facility_id = f.facility_id AND o.period = w.period)
           AS reported
FROM facilities AS f JOIN ind_window AS w
  ON f.active_from <= w.month_end AND (f.active_to IS NULL OR f.active_to >= w.month_start)
"""

FIRST_TIME_SQL = r"""
CREATE OR REPLACE TEMP TABLE ind_first_time AS
WITH attributable AS (
    SELECT r.facility_id, r.period, r.file_seq, r.state, f.park_id, CAST(left(r.period, 4) AS INTEGER) AS year
    FROM submission_rows AS r JOIN facilities AS f USING (facility_id)
    WHERE regexp_full_match(r.period, '\d{4}-(0[1-9]|1[0-2])')
),
firsts AS (
    SELECT facility_id, period, min(file_seq) AS first_seq FROM attributable GROUP BY facility_id, period
)
SELECT a.park_id, a.year, a.facility_id, a.period, NOT bool_or(a.state = 'rejected') AS accepted_first_time
FROM attributable AS a JOIN firsts AS s
  ON s.facility_id = a.facility_id AND s.period = a.period AND s.first_seq = a.file_seq
GROUP BY a.park_id, a.year, a.facility_id, a.period
"""

DATA_QUALITY_SQL = r"""
INSERT INTO out_data_quality BY NAME
WITH keys AS (SELECT DISTINCT park_id, year FROM ind_expected),
expected AS (
    SELECT park_id, year, count(*) AS facility_months_expected,
           count(*) FILTER (WHERE reported) AS facility_months_reported
    FROM ind_expected GROUP BY park_id, year
),
first_time AS (
    SELECT park_id, year, count(*) AS submissions,
           count(*) FILTER (WHERE accepted_first_time) AS submissions_accepted_first_time
    FROM ind_first_time GROUP BY park_id, year
),
rows AS (
    SELECT f.park_id, CAST(left(r.period, 4) AS INTEGER) AS year, count(*) AS rows_read,
           count(*) FILTER (WHERE r.state = 'accepted') AS rows_accepted,
           count(*) FILTER (WHERE r.state = 'rejected') AS rows_rejected,
           count(*) FILTER (WHERE r.state = 'superseded') AS rows_superseded
    FROM submission_rows AS r JOIN facilities AS f USING (facility_id)
    WHERE regexp_full_match(r.period, '\d{4}-(0[1-9]|1[0-2])')
    GROUP BY ALL
)
SELECT k.park_id, k.year,
    coalesce(e.facility_months_expected, 0) AS facility_months_expected,
    coalesce(e.facility_months_reported, 0) AS facility_months_reported,
    100.0 * e.facility_months_reported / nullif(e.facility_months_expected, 0) AS data_completeness_pct,
    coalesce(t.submissions, 0) AS submissions,
    coalesce(t.submissions_accepted_first_time, 0) AS submissions_accepted_first_time,
    100.0 * t.submissions_accepted_first_time / nullif(t.submissions, 0) AS first_time_acceptance_pct,
    coalesce(r.rows_read, 0) AS rows_read, coalesce(r.rows_accepted, 0) AS rows_accepted,
    coalesce(r.rows_rejected, 0) AS rows_rejected, coalesce(r.rows_superseded, 0) AS rows_superseded
FROM keys AS k
LEFT JOIN expected AS e USING (park_id, year)
LEFT JOIN first_time AS t USING (park_id, year)
LEFT JOIN rows AS r USING (park_id, year)
"""


def build_coverage(con: duckdb.DuckDBPyConnection) -> None:
    """The reporting window, the expected facility-months and first-time acceptance (temporary tables)."""
    build_reporting_window(con)
    build_expected(con)


def build_reporting_window(con: duckdb.DuckDBPyConnection) -> None:
    """The months and years of the whole warehouse (`ind_window`, `ind_years`): they set which
    facility-months every park is expected to report, so they are always taken from every observation."""
    con.execute(WINDOW_SQL)
    con.execute(YEARS_SQL)


def build_expected(con: duckdb.DuckDBPyConnection) -> None:
    """Expected facility-months of the window and first-time acceptance (`ind_expected`, `ind_first_time`)."""
    con.execute(EXPECTED_SQL)
    con.execute(FIRST_TIME_SQL)


def build_data_quality(con: duckdb.DuckDBPyConnection) -> None:
    from instep.indicators.facility import create_out_table

    create_out_table(con, "data_quality")
    con.execute(DATA_QUALITY_SQL)
