"""Disclosure control (SPEC 5), in one place: the publishable `pub_*` tables from the `out_*` tables.

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

import duckdb

from instep.indicators.formulas import RATIOS, SUPPRESSED_COUNTS
from instep.metadata.resources import COMPUTED_RESOURCES, MIN_PERSONS, resource, table_ddl
from instep.settings import Settings

# Which out_* rows may be published at all.
ROW_FILTERS = {
    "facility_monthly": "disclosure = 'public'",
    "wastewater_results": "disclosure = 'public'",
}
# Small park counts of the sensitive metric are shown as a band.
SMALL_COUNT_BAND = "<5"
SMALL_COUNT_LIMIT = 5


def suppressions(field_names: tuple[str, ...]) -> dict[str, str]:
    """column -> SQL condition under which it is suppressed (too few persons behind it)."""
    out: dict[str, str] = {}
    for ratio in RATIOS:
        if ratio.persons and ratio.column in field_names:
            out[ratio.column] = " OR ".join(f"coalesce({p}, 0) < {MIN_PERSONS}" for p in ratio.persons)
    for count, total in SUPPRESSED_COUNTS.items():
        if count in field_names:
            out[count] = f"coalesce({total}, 0) < {MIN_PERSONS}"
    return out


def _gbv_display() -> str:
    return (
        "CASE WHEN grievances_gbv_received IS NULL THEN '' "
        "WHEN grievances_gbv_received = 0 THEN '0' "
        f"WHEN grievances_gbv_received < {SMALL_COUNT_LIMIT} THEN '{SMALL_COUNT_BAND}' "
        "ELSE CAST(CAST(round(grievances_gbv_received) AS BIGINT) AS VARCHAR) END"
    )


def disclosed_query(name: str) -> str:
    """SELECT of the publishable rows and columns of `out_<name>`, in the resource's column order."""
    spec = resource(name)
    hidden = suppressions(spec.field_names)
    columns = []
    for field in spec.fields:
        if field.name in hidden:
            columns.append(
                f'CASE WHEN {hidden[field.name]} THEN NULL ELSE "{field.name}" END AS "{field.name}"'
            )
        elif field.name == "suppressed_fields":
            flags = ", ".join(f"CASE WHEN {cond} THEN '{col}' END" for col, cond in hidden.items())
            columns.append(f"nullif(concat_ws(';', {flags}), '') AS suppressed_fields" if flags else "NULL")
        elif field.name == "grievances_gbv_received_display":
            columns.append(f"{_gbv_display()} AS grievances_gbv_received_display")
        else:
            columns.append(f'"{field.name}"')
    where = f" WHERE {ROW_FILTERS[name]}" if name in ROW_FILTERS else ""
    order = ", ".join(f'"{k}"' for k in spec.order)
    return f'SELECT {", ".join(columns)} FROM "out_{name}"{where} ORDER BY {order}'


def build_publishable_tables(
    con: duckdb.DuckDBPyConnection, settings: Settings | None = None
) -> dict[str, int]:
    """Create pub_<name> for every computed resource from out_<name>; returns rows per pub_ table.

    `settings` is accepted for symmetry with the other stages; disclosure rules do not depend on it.
    """
    del settings
    counts: dict[str, int] = {}
    for spec in COMPUTED_RESOURCES:
        table = f"pub_{spec.name}"
        con.execute(table_ddl(table, spec.fields, spec.primary_key))
        con.execute(f'INSERT INTO "{table}" BY NAME {disclosed_query(spec.name)}')
        counts[table] = con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0]
    return counts
