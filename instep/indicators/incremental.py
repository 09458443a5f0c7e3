"""Incremental builds: after new files, recompute only what they can change, with the SQL of a full build.

What changed since the last build is read from the ledger against a watermark (`indicator_watermark`,
written with the tables in one transaction): the last file (file_seq) whose rows the tables include, the
row counts per state of the files up to it, the number of observations, the reporting window, and a
fingerprint of everything else the tables are computed from (the GWP set, the reference factors, the
registry's parks and facilities, the indicator code). The ledger grows by settling files in ingest order,
and the one way settling changes an earlier file's row is a later file restating it (accepted becomes
superseded, naming the later submission). So a build is incremental when the fingerprint is the same and
the earlier files' counts moved by restatements alone. Anything else rebuilds every table: no watermark
yet, another GWP set, new factors, a registry change (a facility's park, type, disclosure or active
months), a code change, or an earlier row changed otherwise (a confirmed rejection is judged again with
its own, earlier file_seq).

What is recomputed, from the rows of the new files and the rows they superseded:
- facility-months: each facility-month those rows name and the two months after it (an input is
  expected in a month when it was reported in the two months before, instep.indicators.facility):
  their rows of out_wastewater_results and out_facility_monthly, computed from every observation and
  submitted row of the facility;
- park-months: those of the facility-months' parks, in out_park_monthly. A park-month sums every
  facility of the park (shared plants, central-boiler steam netted out), so it is recomputed from all
  the park's facility-months of that month, not patched by the changed facility's difference;
- park-years: those of the park-months, in out_data_quality and out_park_coverage, from the park's rows
  of those years. Coverage expects a topic from a facility in every month once it reported the topic in
  any month: when a new file may have brought a facility a topic (one with no earlier observation of
  it), every year of its park is recomputed;
- out_park_annual is always rebuilt whole: one row per park and year over out_park_monthly (a small
  table), it reads the previous year (like-for-like change) and the run's date (year_status), so a
  partial update would track more than it saves.
When the batch moves the reporting window or adds a year, every park is expected in the new months, and
out_park_monthly, out_data_quality and out_park_coverage are rebuilt whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from instep.indicators.coverage import (
    DATA_QUALITY_SQL,
    EXPECTED_SQL,
    FIRST_TIME_SQL,
    WINDOW_SQL,
    YEARS_SQL,
    build_expected,
)
from instep.indicators.facility import WASTEWATER_RESULTS_SQL, facility_monthly_sql
from instep.indicators.park import PARK_MONTHLY_SQL
from instep.indicators.park_coverage import PARK_COVERAGE_SQL, REPORTED_TOPICS_SQL
from instep.metadata.ledger import INDICATOR_WATERMARK
from instep.metadata.model import sql_literal, table_ddl
from instep.metadata.resources import resource, warehouse_fields

FACILITY_TABLES = ("out_wastewater_results", "out_facility_monthly")
PARK_TABLES = ("out_data_quality", "out_park_monthly", "out_park_coverage")
# What the indicator tables are computed from besides the ledger (registry and reference tables).
FINGERPRINTED_TABLES = (
    "parks",
    "facilities",
    "ref_fuel_factors",
    "ref_grid_factors",
    "ref_zdhc_limits",
    "ref_metric_topics",
)
# Every module of instep.indicators (the formulas and this module's rules) and the table columns.
INDICATOR_SOURCES = (
    *sorted(Path(__file__).parent.glob("*.py")),
    Path(__file__).parents[1] / "metadata" / "resources.py",
)
AFFECTED_FACILITY_MONTHS = "ind_affected_facility_months"
AFFECTED_PARK_MONTHS = "ind_affected_park_months"
AFFECTED_PARK_YEARS = "ind_affected_park_years"
# Park-years of out_park_coverage: the affected ones, and every year of a park that may have a new topic.
AFFECTED_COVERAGE_YEARS = "ind_affected_coverage_years"
# Months after a changed facility-month whose missing inputs read it (see MISSING_INPUTS_SQL).
MONTHS_READ_AHEAD = 2


@dataclass(frozen=True)
class LedgerState:
    """The ledger and the inputs as a build saw them (one row of `indicator_watermark`)."""

    file_seq: int
    rows_accepted: int
    rows_rejected: int
    rows_superseded: int
    observations: int
    first_period: str | None
    last_period: str | None
    years: str
    inputs_fingerprint: str


@dataclass(frozen=True)
class BuildPlan:
    """What a build recomputes: every table (`full`, with the reason) or the affected partitions."""

    full: bool
    reason: str = ""
    facility_months: int = 0
    park_months: int = 0
    park_years: int = 0
    # The reporting window or the years moved: the park tables are rebuilt whole.
    park_tables_whole: bool = False


def main_table(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The warehouse's own table, never a temporary one of the same name."""
    database = con.execute("SELECT current_database()").fetchall()[0][0]
    return f'"{database}".main."{table}"'


def inputs_fingerprint(con: duckdb.DuckDBPyConnection, gwp_set: str) -> str:
    """SHA-256 of everything but the ledger that the tables depend on; needs the reference tables."""
    digest = hashlib.sha256(f"gwp_set={gwp_set};duckdb={duckdb.__version__}".encode())
    for path in INDICATOR_SOURCES:
        digest.update(path.read_bytes())
    statements = (
        WASTEWATER_RESULTS_SQL,
        facility_monthly_sql(gwp_set),
        WINDOW_SQL,
        YEARS_SQL,
        EXPECTED_SQL,
        FIRST_TIME_SQL,
        DATA_QUALITY_SQL,
        PARK_MONTHLY_SQL,
        REPORTED_TOPICS_SQL,
        PARK_COVERAGE_SQL,
        *(_out_table_ddl(table) for table in (*FACILITY_TABLES, *PARK_TABLES)),
    )
    for sql in statements:
        digest.update(sql.encode())
    for table in FINGERPRINTED_TABLES:
        digest.update(table.encode())
        for row in con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall():
            digest.update(repr(row).encode())
    return digest.hexdigest()


def _out_table_ddl(table: str) -> str:
    name = table.removeprefix("out_")
    return table_ddl(table, warehouse_fields(name), resource(name).primary_key)


def read_watermark(con: duckdb.DuckDBPyConnection) -> LedgerState | None:
    _create_watermark_table(con)
    rows = con.execute(
        "SELECT file_seq, rows_accepted, rows_rejected, rows_superseded, observations, first_period, "
        "last_period, years, inputs_fingerprint FROM indicator_watermark"
    ).fetchall()
    return LedgerState(*rows[0]) if len(rows) == 1 else None


def _create_watermark_table(con: duckdb.DuckDBPyConnection) -> None:
    """The watermark table of the model; one with other columns (an older version's) is dropped, so the
    build is a full one."""
    columns = [
        row[0]
        for row in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_catalog = current_database() "
            "AND table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
            [INDICATOR_WATERMARK.name],
        ).fetchall()
    ]
    if columns and columns != [f.name for f in INDICATOR_WATERMARK.fields]:
        con.execute(f"DROP TABLE {INDICATOR_WATERMARK.name}")
    con.execute(_watermark_ddl())


def _watermark_ddl() -> str:
    return table_ddl(
        INDICATOR_WATERMARK.name,
        INDICATOR_WATERMARK.fields,
        INDICATOR_WATERMARK.primary_key,
        create="CREATE TABLE IF NOT EXISTS",
        enforce=True,
    )


def current_state(con: duckdb.DuckDBPyConnection, fingerprint: str) -> LedgerState:
    """The ledger now, with the window and years of `ind_window` and `ind_years` (coverage)."""
    file_seq, accepted, rejected, superseded = con.execute(
        "SELECT coalesce(max(file_seq), -1), count(*) FILTER (WHERE state = 'accepted'), "
        "count(*) FILTER (WHERE state = 'rejected'), count(*) FILTER (WHERE state = 'superseded') "
        "FROM submission_rows"
    ).fetchall()[0]
    observations = con.execute("SELECT count(*) FROM observations").fetchall()[0][0]
    first, last = con.execute("SELECT min(period), max(period) FROM ind_window").fetchall()[0]
    years = con.execute(
        "SELECT coalesce(string_agg(CAST(year AS VARCHAR), ';' ORDER BY year), '') FROM ind_years"
    ).fetchall()[0][0]
    return LedgerState(
        file_seq, accepted, rejected, superseded, observations, first, last, years, fingerprint
    )


def record_watermark(con: duckdb.DuckDBPyConnection, state: LedgerState, plan: BuildPlan) -> None:
    _create_watermark_table(con)
    con.execute("DELETE FROM indicator_watermark")
    con.execute(
        "INSERT INTO indicator_watermark VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            state.file_seq,
            state.rows_accepted,
            state.rows_rejected,
            state.rows_superseded,
            state.observations,
            state.first_period,
            state.last_period,
            state.years,
            state.inputs_fingerprint,
            plan.full,
            plan.facility_months,
            plan.park_months,
            plan.park_years,
        ],
    )


# Rows of the files up to the watermark per state now, those of them a later file restated, and the
# accepted rows of later files.
EARLIER_ROWS_SQL = """
WITH later_files AS (SELECT submission_id FROM submission_files WHERE file_seq > $seq)
SELECT
    count(*) FILTER (WHERE r.file_seq <= $seq AND r.state = 'accepted'),
    count(*) FILTER (WHERE r.file_seq <= $seq AND r.state = 'rejected'),
    count(*) FILTER (WHERE r.file_seq <= $seq AND r.state = 'superseded'),
    count(*) FILTER (WHERE r.file_seq <= $seq AND l.submission_id IS NOT NULL),
    count(*) FILTER (WHERE r.file_seq > $seq AND r.state = 'accepted')
FROM submission_rows AS r LEFT JOIN later_files AS l ON l.submission_id = r.superseded_by
"""


def changed_only_by_later_files(con: duckdb.DuckDBPyConnection, previous: LedgerState) -> bool:
    """True when the ledger differs from `previous` by later files and the rows they restated alone."""
    accepted, rejected, superseded, restated, accepted_later = con.execute(
        EARLIER_ROWS_SQL, {"seq": previous.file_seq}
    ).fetchall()[0]
    observations = con.execute("SELECT count(*) FROM observations").fetchall()[0][0]
    return (
        accepted + restated == previous.rows_accepted
        and rejected == previous.rows_rejected
        and superseded - restated == previous.rows_superseded
        and observations == previous.observations - restated + accepted_later
    )


# The facility-months named by rows of later files or restated by them (keys as settling trims them),
# with the months after each whose missing inputs read it; registry facilities and well-formed months only.
AFFECTED_FACILITY_MONTHS_SQL = rf"""
CREATE OR REPLACE TEMP TABLE {AFFECTED_FACILITY_MONTHS} AS
WITH later_files AS (SELECT submission_id FROM submission_files WHERE file_seq > $seq),
changed AS (
    SELECT DISTINCT trim(facility_id) AS facility_id, trim(period) AS period
    FROM submission_rows
    WHERE file_seq > $seq OR superseded_by IN (SELECT submission_id FROM later_files)
)
SELECT DISTINCT c.facility_id,
    strftime(CAST(strptime(c.period, '%Y-%m') AS DATE) + to_months(CAST(i.range AS INTEGER)), '%Y-%m')
        AS period
FROM changed AS c
CROSS JOIN range({MONTHS_READ_AHEAD + 1}) AS i
WHERE regexp_full_match(c.period, '\d{{4}}-(0[1-9]|1[0-2])')
  AND c.facility_id IN (SELECT facility_id FROM facilities)
  -- a month after the window has no rows to recompute
  AND period IN (SELECT period FROM ind_window)
"""

AFFECTED_PARK_SQL = f"""
CREATE OR REPLACE TEMP TABLE {AFFECTED_PARK_MONTHS} AS
SELECT DISTINCT f.park_id, a.period, CAST(left(a.period, 4) AS INTEGER) AS year
FROM {AFFECTED_FACILITY_MONTHS} AS a JOIN facilities AS f USING (facility_id);
CREATE OR REPLACE TEMP TABLE {AFFECTED_PARK_YEARS} AS
SELECT DISTINCT park_id, year FROM {AFFECTED_PARK_MONTHS}
"""

# A topic is new to a facility when a later file names it and no observation of an earlier file has it
# (an earlier rejected or superseded row may have: then the park's years are recomputed needlessly, never
# missed).
AFFECTED_COVERAGE_SQL = f"""
CREATE OR REPLACE TEMP TABLE {AFFECTED_COVERAGE_YEARS} AS
WITH later_files AS (SELECT submission_id FROM submission_files WHERE file_seq > $seq),
named AS (
    SELECT DISTINCT trim(r.facility_id) AS facility_id, t.topic
    FROM submission_rows AS r JOIN ref_metric_topics AS t ON t.metric = trim(r.metric)
    WHERE r.file_seq > $seq
),
known AS (
    SELECT DISTINCT facility_id, topic FROM observations
    WHERE facility_id IN (SELECT facility_id FROM named)
      AND submission_id NOT IN (SELECT submission_id FROM later_files)
),
new_topic_parks AS (
    SELECT DISTINCT f.park_id
    FROM named AS n JOIN facilities AS f USING (facility_id)
    WHERE NOT EXISTS (SELECT 1 FROM known AS k WHERE k.facility_id = n.facility_id AND k.topic = n.topic)
)
SELECT park_id, year FROM {AFFECTED_PARK_YEARS}
UNION
SELECT p.park_id, y.year FROM new_topic_parks AS p CROSS JOIN ind_years AS y
"""


def plan_build(con: duckdb.DuckDBPyConnection, previous: LedgerState | None, now: LedgerState) -> BuildPlan:
    """Full or partial; for a partial build, fills the tables of affected facility-months, park-months
    and park-years."""
    if previous is None:
        return BuildPlan(full=True, reason="no earlier build")
    if previous.inputs_fingerprint != now.inputs_fingerprint:
        return BuildPlan(full=True, reason="settings, reference factors, registry or indicator code changed")
    if not _out_tables_exist(con):
        return BuildPlan(full=True, reason="an indicator table is missing")
    if not changed_only_by_later_files(con, previous):
        return BuildPlan(full=True, reason="rows of earlier files changed other than by restatement")
    con.execute(AFFECTED_FACILITY_MONTHS_SQL, {"seq": previous.file_seq})
    con.execute(AFFECTED_PARK_SQL)
    con.execute(AFFECTED_COVERAGE_SQL, {"seq": previous.file_seq})
    window = (previous.first_period, previous.last_period, previous.years)
    return BuildPlan(
        full=False,
        facility_months=_count(con, AFFECTED_FACILITY_MONTHS),
        park_months=_count(con, AFFECTED_PARK_MONTHS),
        park_years=_count(con, AFFECTED_COVERAGE_YEARS),
        park_tables_whole=window != (now.first_period, now.last_period, now.years),
    )


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def _out_tables_exist(con: duckdb.DuckDBPyConnection) -> bool:
    present = {
        row[0]
        for row in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema = 'main'"
        ).fetchall()
    }
    return {*FACILITY_TABLES, *PARK_TABLES} <= present


@contextmanager
def shadowed(
    con: duckdb.DuckDBPyConnection, inputs: Mapping[str, str], staged: tuple[str, ...] = ()
) -> Iterator[None]:
    """Temporary views named like warehouse tables, over the SQL given, and empty temporary copies of
    the `staged` tables: while the block runs, the indicator SQL (which names tables unqualified) reads
    the views and inserts into the copies."""
    try:
        for name, sql in inputs.items():
            con.execute(f'CREATE OR REPLACE TEMP VIEW "{name}" AS {sql}')
        for name in staged:
            con.execute(
                f'CREATE OR REPLACE TEMP TABLE "{name}" AS SELECT * FROM {main_table(con, name)} LIMIT 0'
            )
        yield
    finally:
        for name in staged:
            con.execute(f'DROP TABLE IF EXISTS temp.main."{name}"')
        for name in reversed(inputs):
            con.execute(f'DROP VIEW IF EXISTS temp.main."{name}"')


def replace_rows(con: duckdb.DuckDBPyConnection, table: str, keys: str, key_columns: tuple[str, ...]) -> None:
    """The warehouse table's rows with a key in `keys` replaced by the recomputed ones (temp `table`)."""
    on = " AND ".join(f"t.{c} = k.{c}" for c in key_columns)
    target = main_table(con, table)
    con.execute(f"DELETE FROM {target} AS t USING {keys} AS k WHERE {on}")
    con.execute(
        f'INSERT INTO {target} BY NAME SELECT t.* FROM temp.main."{table}" AS t SEMI JOIN {keys} AS k ON {on}'
    )


def _values(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """The values of the query's column as SQL literals, for `IN (...)`. Constants rather than a
    subquery: DuckDB then filters while it scans, reading the other columns of the matching rows only."""
    values = [row[0] for row in con.execute(f"SELECT DISTINCT * FROM ({sql}) ORDER BY 1").fetchall()]
    literals = [sql_literal(v) if isinstance(v, str) else str(int(v)) for v in values if v is not None]
    return ", ".join(literals) or "NULL"


def _rows_of(con: duckdb.DuckDBPyConnection, table: str, where: str) -> str:
    return f"SELECT * FROM {main_table(con, table)} WHERE {where}"


def recompute_facility_months(con: duckdb.DuckDBPyConnection, gwp_set: str) -> None:
    """out_wastewater_results and out_facility_monthly for the affected facility-months, from every
    observation and submitted row of their facilities (the months before feed the missing inputs)."""
    facilities = _values(con, f"SELECT facility_id FROM {AFFECTED_FACILITY_MONTHS}")
    views = {
        "observations": _rows_of(con, "observations", f"facility_id IN ({facilities})"),
        "submission_rows": _rows_of(con, "submission_rows", f"trim(facility_id) IN ({facilities})"),
    }
    with shadowed(con, views, FACILITY_TABLES):
        con.execute(WASTEWATER_RESULTS_SQL)
        con.execute(facility_monthly_sql(gwp_set))
        for table in FACILITY_TABLES:
            replace_rows(con, table, AFFECTED_FACILITY_MONTHS, ("facility_id", "period"))


def _park_views(
    con: duckdb.DuckDBPyConnection, park_years: str, *, every_year: bool = False
) -> dict[str, str]:
    """The registry facilities of the parks of `park_years`, and their observations and submitted rows
    of the years of `park_years` (or of every year): a superset of those park-years' rows."""
    parks = _values(con, f"SELECT park_id FROM {park_years}")
    facilities = _values(con, f"SELECT facility_id FROM facilities WHERE park_id IN ({parks})")
    years = _values(con, f"SELECT year FROM {park_years}")
    in_years = "" if every_year else f" AND year IN ({years})"
    submitted_in_years = "" if every_year else f" AND try_cast(left(trim(period), 4) AS INTEGER) IN ({years})"
    return {
        "facilities": _rows_of(con, "facilities", f"park_id IN ({parks})"),
        "observations": _rows_of(con, "observations", f"facility_id IN ({facilities}){in_years}"),
        "submission_rows": _rows_of(
            con, "submission_rows", f"trim(facility_id) IN ({facilities}){submitted_in_years}"
        ),
        "out_facility_monthly": _rows_of(con, "out_facility_monthly", f"park_id IN ({parks}){in_years}"),
    }


def recompute_park_months_and_years(con: duckdb.DuckDBPyConnection) -> None:
    """out_park_monthly of the affected park-months and out_data_quality of the affected park-years, from
    the rows of those parks and years; the reporting window (`ind_window`) stays the warehouse's."""
    with shadowed(con, _park_views(con, AFFECTED_PARK_YEARS), ("out_data_quality", "out_park_monthly")):
        build_expected(con)
        con.execute(DATA_QUALITY_SQL)
        con.execute(PARK_MONTHLY_SQL)
        replace_rows(con, "out_data_quality", AFFECTED_PARK_YEARS, ("park_id", "year"))
        replace_rows(con, "out_park_monthly", AFFECTED_PARK_MONTHS, ("park_id", "period"))


def recompute_coverage_years(con: duckdb.DuckDBPyConnection) -> None:
    """out_park_coverage of the affected park-years: the topics of the parks' facilities from every
    month, the rest from the rows of those years."""
    with shadowed(con, _park_views(con, AFFECTED_COVERAGE_YEARS, every_year=True)):
        con.execute(REPORTED_TOPICS_SQL)
    with shadowed(con, _park_views(con, AFFECTED_COVERAGE_YEARS), ("out_park_coverage",)):
        con.execute(PARK_COVERAGE_SQL)
        replace_rows(con, "out_park_coverage", AFFECTED_COVERAGE_YEARS, ("park_id", "year"))
