"""The publishable `pub_*` tables from the `out_*` tables, with disclosure control applied (SPEC 5).

- Park cells in the suppression plan (`instep.disclosure.plan`) are empty, each named with its rule in
  the row's `suppressed_fields` and `suppression_rules`.
- Facilities that disclose only in aggregate (`aggregate_only`) appear only inside park sums: their rows
  are dropped from facility_monthly and wastewater_results (and the release lists only public facilities).
- The sensitive metric grievances.gbv.received is never published per facility; park values 1 to 4 are
  shown as '<5' (grievances_gbv_received_display).
- A ratio over fewer than MIN_PERSONS persons is left empty, and so is the female count behind it (it
  would reveal the ratio); the emptied columns are named in the row's `suppressed_fields`.
- Only the resource's own fields are published: no submitter identity, file, comment or warehouse-only
  column reaches a `pub_*` table.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from instep.disclosure import rules
from instep.disclosure.plan import PLAN_TABLE, store_plan, withheld_rows
from instep.indicators.formulas import RATIOS, SUPPRESSED_COUNTS
from instep.metadata.model import table_ddl
from instep.metadata.resources import COMPUTED_RESOURCES, MIN_PERSONS, resource
from instep.settings import Settings

# Which out_* rows may be published at all.
ROW_FILTERS = {
    "facility_monthly": "disclosure = 'public'",
    "wastewater_results": "disclosure = 'public'",
}
# Resources whose cells the suppression plan covers, and the column of the plan's key.
PLANNED = {"park_monthly": "period", "park_annual": "year"}
# Small park counts of the sensitive metric are shown as a band.
SMALL_COUNT_BAND = "<5"
SMALL_COUNT_LIMIT = 5


def suppressions(field_names: tuple[str, ...]) -> dict[str, str]:
    """column -> SQL condition under which it is suppressed (too few persons behind it)."""
    out: dict[str, str] = {}
    for ratio in RATIOS:
        if ratio.persons and ratio.column in field_names:
            out[ratio.column] = " OR ".join(f"{p} < {MIN_PERSONS}" for p in ratio.persons)
    for count, total in SUPPRESSED_COUNTS.items():
        if count in field_names:
            out[count] = f"{total} < {MIN_PERSONS}"
    return out


def _gbv_display() -> str:
    return (
        "CASE WHEN grievances_gbv_received IS NULL THEN '' "
        "WHEN grievances_gbv_received = 0 THEN '0' "
        f"WHEN grievances_gbv_received < {SMALL_COUNT_LIMIT} THEN '{SMALL_COUNT_BAND}' "
        "ELSE CAST(CAST(round(grievances_gbv_received) AS BIGINT) AS VARCHAR) END"
    )


def _planned(name: str) -> tuple[str, str]:
    """FROM clause joining the plan's withheld columns of each row, and the SQL list of them."""
    if name not in PLANNED:
        return f'"out_{name}" AS t', "[]::VARCHAR[]"
    join = (
        f'"out_{name}" AS t LEFT JOIN (SELECT park_id, key, list("column" ORDER BY "column") AS columns, '
        f'list("column" || \'{rules.RULE_LINK}\' || rule ORDER BY "column") AS rules FROM {PLAN_TABLE} '
        f"WHERE resource = '{name}' GROUP BY ALL) AS w "
        f"ON w.park_id = t.park_id AND w.key = CAST(t.{PLANNED[name]} AS VARCHAR)"
    )
    return join, "coalesce(w.columns, []::VARCHAR[])"


def disclosed_query(name: str) -> str:
    """SELECT of the publishable rows and columns of `out_<name>`, in the resource's column order.

    Park tables need the plan table (`store_plan`) in the warehouse.
    """
    spec = resource(name)
    hidden = suppressions(spec.field_names)
    source, planned = _planned(name)
    planned_rules = "coalesce(w.rules, []::VARCHAR[])" if name in PLANNED else "[]::VARCHAR[]"
    persons_names = ", ".join(f"CASE WHEN {cond} THEN '{col}' END" for col, cond in hidden.items())
    persons_rules = ", ".join(
        f"CASE WHEN {cond} THEN '{col}{rules.RULE_LINK}{rules.PERSONS}' END" for col, cond in hidden.items()
    )
    withheld_names = (
        f"list_concat(list_filter([{persons_names}]::VARCHAR[], lambda x: x IS NOT NULL), {planned})"
    )
    withheld_rules = (
        f"list_concat(list_filter([{persons_rules}]::VARCHAR[], lambda x: x IS NOT NULL), {planned_rules})"
    )
    columns = []
    for field in spec.fields:
        if field.name == "suppressed_fields":
            names = f"list_sort(list_distinct({withheld_names}))"
            columns.append(
                f"nullif(array_to_string({names}, '{rules.FIELD_SEPARATOR}'), '') AS suppressed_fields"
            )
        elif field.name == "suppression_rules":
            entries = f"list_sort(list_distinct({withheld_rules}))"
            columns.append(
                f"nullif(array_to_string({entries}, '{rules.RULE_SEPARATOR}'), '') AS suppression_rules"
            )
        else:
            value = _gbv_display() if field.name == "grievances_gbv_received_display" else f't."{field.name}"'
            condition = f"list_contains({planned}, '{field.name}')"
            if field.name in hidden:
                condition = f"({hidden[field.name]}) OR {condition}"
            if name in PLANNED or field.name in hidden:
                value = f"CASE WHEN {condition} THEN NULL ELSE {value} END"
            columns.append(f'{value} AS "{field.name}"')
    where = f" WHERE {ROW_FILTERS[name]}" if name in ROW_FILTERS else ""
    order = ", ".join(f't."{k}"' for k in spec.order)
    return f"SELECT {', '.join(columns)} FROM {source}{where} ORDER BY {order}"


def ensure_plan(con: duckdb.DuckDBPyConnection, settings: Settings | None) -> int:
    """Compute the suppression plan against the releases already published, and store it."""
    package_dir: Path | None = settings.datapackages_dir / settings.package_name if settings else None
    return store_plan(con, withheld_rows(con, package_dir))


# Computed from published tables (the scorecards read pub_park_annual): they carry no cell of their own to
# protect, so they are published as computed, after the tables they read.
FROM_PUBLISHED = frozenset({"scorecards"})


def publish_resource(con: duckdb.DuckDBPyConnection, name: str) -> int:
    """Create pub_<name> from out_<name> with disclosure applied (the plan table must exist for park
    tables); returns its rows."""
    spec = resource(name)
    table = f"pub_{name}"
    con.execute(table_ddl(table, spec.fields, spec.primary_key))
    con.execute(f'INSERT INTO "{table}" BY NAME {disclosed_query(name)}')
    return con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0]


def build_publishable_tables(
    con: duckdb.DuckDBPyConnection, settings: Settings | None = None
) -> dict[str, int]:
    """Compute the suppression plan once, against the releases in `settings`' package directory (none
    without settings), and create pub_<name> for every computed resource but those computed from
    published tables (`FROM_PUBLISHED`); returns rows per pub_ table."""
    ensure_plan(con, settings)
    return {
        f"pub_{spec.name}": publish_resource(con, spec.name)
        for spec in COMPUTED_RESOURCES
        if spec.name not in FROM_PUBLISHED
    }
