"""The park cells a reader sees and what is hidden inside each: the contributions nobody publishes.

A cell is (park_id, level, key, column): level "M" with key YYYY-MM (park_monthly) or "Y" with key YYYY
(park_annual). Its hidden contributions are the values, inside the park total, of facilities that disclose
only in aggregate, of the sensitive metric that no facility publishes, and of public facilities' own cells
withheld by the persons rule. The reader can subtract everything else (the published facilities), so the
hidden sum, the cell's residual, is what a published park cell tells about them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import duckdb

from instep.indicators.formulas import STOCKS, SUPPRESSED_COUNTS
from instep.indicators.park import PARK_ADDITIVE, park_contribution_sql
from instep.metadata.resources import MIN_PERSONS

Cell = tuple[str, str, str, str]
MONTH, YEAR = "M", "Y"
LEVEL_RESOURCES = {MONTH: "park_monthly", YEAR: "park_annual"}
# Never published per facility: every facility's value is hidden.
NEVER_PER_FACILITY = ("grievances_gbv_received",)


@dataclass
class HiddenCell:
    """The hidden contributions of one park cell, by facility, and when each facility last changed it."""

    contributions: dict[str, float] = field(default_factory=dict)
    last_file_seq: dict[str, int] = field(default_factory=dict)
    value: float | None = None  # the park's value of the cell, as it would be published

    def shows(self, published: float) -> bool:
        """Whether an earlier release's value of the cell is the value it has now."""
        return self.value is not None and abs(published - self.value) <= 1e-9 * max(1.0, abs(self.value))

    @cached_property
    def residual(self) -> float:
        """The hidden sum (read once the contributions are complete)."""
        return sum(self.contributions.values())


def hidden_condition(column: str) -> str:
    """SQL over an out_facility_monthly row: true when the row's value of `column` is not published."""
    if column in NEVER_PER_FACILITY:
        return "true"
    condition = "disclosure = 'aggregate_only'"
    if column in SUPPRESSED_COUNTS:
        condition += f" OR {SUPPRESSED_COUNTS[column]} < {MIN_PERSONS}"
    return condition


# The last file (file_seq) behind each facility-month's observations: when a hidden value last changed.
LAST_FILES = "disclosure_last_files"


def _last_files_sql(of_park: str = "") -> str:
    return (
        "SELECT o.facility_id, o.period, max(f.file_seq) AS last_file_seq "
        f"FROM observations AS o JOIN submission_files AS f USING (submission_id){of_park} GROUP BY ALL"
    )


def _contributions_sql(columns: tuple[str, ...], last_files: str | None, parks: Sequence[str] | None) -> str:
    """One row per hidden cell: its level, key and column, and its contributions as three lists in
    facility order (facility, value, last file). An annual contribution is the facility's sum over the
    months (stocks are divided by the months with data afterwards). `last_files`: the relation of each
    facility-month's last file (none without a ledger)."""
    boiler = "boiler_park"
    seq = "coalesce(s.last_file_seq, 0)" if last_files else "0"
    ledger = f"\n    LEFT JOIN {last_files} AS s USING (facility_id, period)" if last_files else ""
    parts = [
        f"""SELECT facility_id, park_id, period, year, '{column}' AS column, value, last_file_seq FROM (
        SELECT facility_id, park_id, period, year, ({park_contribution_sql(column, boiler)}) AS value,
            last_file_seq, ({hidden_condition(column)}) AS hidden FROM rows)
        WHERE hidden AND value IS NOT NULL"""
        for column in columns
    ]
    in_park = "\n    WHERE m.park_id IN (SELECT unnest($park_ids))" if parks is not None else ""
    lists = (
        "list(facility_id ORDER BY facility_id), list(value ORDER BY facility_id), "
        "list(last_file_seq ORDER BY facility_id)"
    )
    return f"""
WITH boilers AS (SELECT DISTINCT park_id FROM facilities WHERE type = 'central_boiler'),
rows AS (
    SELECT m.*, b.park_id IS NOT NULL AS boiler_park, {seq} AS last_file_seq
    FROM out_facility_monthly AS m LEFT JOIN boilers AS b USING (park_id){ledger}{in_park}
),
contributions AS ({" UNION ALL ".join(parts)}),
annual AS (
    SELECT facility_id, park_id, year, "column", fsum(value) AS value, max(last_file_seq) AS last_file_seq
    FROM contributions GROUP BY ALL
)
SELECT park_id, '{MONTH}', period, "column", {lists} FROM contributions GROUP BY park_id, period, "column"
UNION ALL
SELECT park_id, '{YEAR}', CAST(year AS VARCHAR), "column", {lists} FROM annual
GROUP BY park_id, year, "column"
"""


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def parks_filter(parks: Sequence[str] | None) -> tuple[str, dict[str, list[str]]]:
    """The WHERE clause and parameters that keep some parks' rows of a park table (all without parks)."""
    return (
        ("WHERE park_id IN (SELECT unnest($park_ids))", {"park_ids": list(parks)})
        if parks is not None
        else ("", {})
    )


def months_with_data(
    con: duckdb.DuckDBPyConnection, parks: Sequence[str] | None = None
) -> dict[tuple[str, str, str], int]:
    """(park_id, year, column) -> months of the year with a park value: the divisor of an annual stock
    (of `parks`, or of every park)."""
    counts = ", ".join(f"count({c}) AS {c}" for c in STOCKS)
    where, params = parks_filter(parks)
    out: dict[tuple[str, str, str], int] = {}
    for row in con.execute(
        f"SELECT park_id, CAST(year AS VARCHAR), {counts} FROM out_park_monthly {where} GROUP BY ALL", params
    ).fetchall():
        for column, n in zip(STOCKS, row[2:], strict=True):
            out[(row[0], row[1], column)] = n
    return out


def hidden_cells(
    con: duckdb.DuckDBPyConnection, park_id: str | None = None, last_files: str | None = None
) -> dict[Cell, HiddenCell]:
    """Every park cell (month and year) with at least one hidden contribution, of one park or all.

    `last_files`: a table of each facility-month's last file (`LAST_FILES`, see `hidden_cells_by_park`);
    without it, they are read from the ledger for the park's facilities.
    """
    return _hidden_cells(con, None if park_id is None else [park_id], last_files)


def _hidden_cells(
    con: duckdb.DuckDBPyConnection, parks: Sequence[str] | None, last_files: str | None
) -> dict[Cell, HiddenCell]:
    """`hidden_cells` of `parks` (all of them: None), in one query."""
    where, params = parks_filter(parks)
    if last_files is None and _has_ledger(con):
        # the last files of the parks' facilities only, not aggregated over the whole warehouse
        of_parks = (
            "\n        WHERE o.facility_id IN "
            "(SELECT facility_id FROM out_facility_monthly WHERE park_id IN (SELECT unnest($park_ids)))"
            if parks is not None
            else ""
        )
        last_files = f"({_last_files_sql(of_parks)})"
    divisors = months_with_data(con, parks)
    cells: dict[Cell, HiddenCell] = {}
    for park, level, key, column, facilities, values, seqs in con.execute(
        _contributions_sql(PARK_ADDITIVE, last_files, parks), params
    ).fetchall():
        contributions = dict(zip(facilities, map(float, values), strict=True))
        if level == YEAR and column in STOCKS:
            n = divisors.get((park, key, column), 0)
            contributions = {f: v / n for f, v in contributions.items()} if n else {}
        if contributions:
            cells[(park, level, key, column)] = HiddenCell(
                contributions, dict(zip(facilities, map(int, seqs), strict=True))
            )
    for level, table, key in ((MONTH, "out_park_monthly", "period"), (YEAR, "out_park_annual", "year")):
        for row in con.execute(
            f"SELECT park_id, CAST({key} AS VARCHAR), {', '.join(PARK_ADDITIVE)} FROM {table} {where}", params
        ).fetchall():
            for column, value in zip(PARK_ADDITIVE, row[2:], strict=True):
                found = cells.get((row[0], level, row[1], column))
                if found is not None and value is not None:
                    found.value = float(value)
    return cells


def _has_ledger(con: duckdb.DuckDBPyConnection) -> bool:
    return {"observations", "submission_files"} <= _tables(con)


# Parks whose facility-months together stay within this many are read in one query (one scan of the
# facility rows for them all, instead of one per park); the contributions held at once stay bounded.
FACILITY_MONTHS_PER_READ = 100_000


def park_batches(con: duckdb.DuckDBPyConnection, limit: int = FACILITY_MONTHS_PER_READ) -> list[list[str]]:
    """The parks with facility-months, in order, in runs of at most `limit` facility-months (a park
    larger than that alone). No relation joins two parks' cells, so each park is planned on its own."""
    batches: list[list[str]] = []
    size = 0
    for park_id, rows in con.execute(
        "SELECT park_id, count(*) FROM out_facility_monthly GROUP BY 1 ORDER BY 1"
    ).fetchall():
        if not batches or size + rows > limit:
            batches.append([])
            size = 0
        batches[-1].append(park_id)
        size += rows
    return batches


def hidden_cells_by_park(
    con: duckdb.DuckDBPyConnection, limit: int = FACILITY_MONTHS_PER_READ
) -> Iterator[tuple[str, dict[Cell, HiddenCell]]]:
    """Each park's hidden cells (`hidden_cells`), park by park, read for several parks at once
    (`park_batches`), so only those parks' contributions are in memory at a time; the last file of
    every facility-month is read from the ledger once for all parks (a temporary table of one row per
    facility-month) instead of once per read."""
    last_files = f"temp.main.{LAST_FILES}" if _has_ledger(con) else None
    if last_files:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {LAST_FILES} AS {_last_files_sql()}")
    try:
        for batch in park_batches(con, limit):
            by_park: dict[str, dict[Cell, HiddenCell]] = defaultdict(dict)
            for cell, hidden in _hidden_cells(con, batch, last_files).items():
                by_park[cell[0]][cell] = hidden
            for park_id in batch:
                yield park_id, by_park.pop(park_id, {})
    finally:
        con.execute(f"DROP TABLE IF EXISTS temp.main.{LAST_FILES}")
