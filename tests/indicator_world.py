"""A tiny hand-made warehouse for indicator, scoring and disclosure tests (no files, no ingestion)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import duckdb

from instep import reference
from instep.disclosure import build_publishable_tables, publish_resource
from instep.indicators import build_indicator_tables
from instep.metadata.ledger import OBSERVATIONS
from instep.metadata.model import insert_records
from instep.registry import Registry, load_registry
from instep.scoring import build_scorecards
from instep.settings import Settings
from instep.warehouse import LEDGER_DDL

PARKS = {
    "ET-TST": ("ET", "Test Lake Park"),
    "VN-TST": ("VN", "Test River Park"),
    "KE-TST": ("KE", "Test Plains Zone"),
}


@dataclass(frozen=True)
class Obs:
    facility_id: str
    period: str
    metric: str
    value: float
    censored: bool = False
    sample_point: str | None = None
    sample_date: str | None = None


def facility(
    facility_id: str,
    *,
    type_: str = "factory",
    disclosure: str = "public",
    name: str | None = None,
    active_from: str = "2020-01-01",
    active_to: str = "",
) -> dict[str, str]:
    park_id = facility_id.rsplit("-", 1)[0]
    return {
        "facility_id": facility_id,
        "park_id": park_id,
        "name": name or f"Facility {facility_id}",
        "type": type_,
        "sector": "garment" if type_ == "factory" else "",
        "os_id": "",
        "disclosure": disclosure,
        "active_from": active_from,
        "active_to": active_to,
    }


def warehouse(facilities: Sequence[dict[str, str]], observations: Iterable[Obs]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(LEDGER_DDL)
    used = {f["park_id"] for f in facilities}
    parks = [
        {
            "park_id": park_id,
            "name": name,
            "country": country,
            "region": "",
            "lat": "0",
            "lon": "0",
            "operator": "",
            "area_ha": "1",
            "established": "2010-01-01",
        }
        for park_id, (country, name) in PARKS.items()
        if park_id in used
    ]
    load_registry(con, Registry(parks=parks, facilities=list(facilities)))
    parks_of = {f["facility_id"]: f["park_id"] for f in facilities}
    catalogue = reference.metrics()
    rows = []
    for number, o in enumerate(observations, start=1):
        year, month = (int(x) for x in o.period.split("-"))
        entry = catalogue[o.metric]
        rows.append(
            {
                "submission_id": "S-test",
                "row_number": number,
                "facility_id": o.facility_id,
                "park_id": parks_of[o.facility_id],
                "period": o.period,
                "period_start": date(year, month, 1),
                "year": year,
                "metric": o.metric,
                "topic": entry.topic,
                "value": o.value,
                "unit": entry.canonical_unit,
                "censored": o.censored,
                "submitted_value": str(o.value),
                "submitted_unit": entry.canonical_unit,
                "sample_point": o.sample_point,
                "sample_date": date.fromisoformat(o.sample_date) if o.sample_date else None,
            }
        )
    insert_records(con, OBSERVATIONS.name, OBSERVATIONS.fields, rows)
    return con


def reject(con: duckdb.DuckDBPyConnection, facility_id: str, period: str, metric: str, value: str) -> None:
    """A submitted row that validation rejected (it never reaches `observations`)."""
    number = con.execute("SELECT count(*) FROM submission_rows").fetchall()[0][0] + 1
    con.execute(
        "INSERT INTO submission_rows (submission_id, file_seq, row_number, facility_id, period, metric,"
        " value, unit, state, rule, message)"
        " VALUES ('S-rejected', 1, ?, ?, ?, ?, ?, '', 'rejected', 'duplicate_row', 'duplicate')",
        [number, facility_id, period, metric, value],
    )


# The run's date of every computation here, so that which years have ended does not depend on the clock.
AS_OF = date(2026, 11, 25)


def compute(
    con: duckdb.DuckDBPyConnection, gwp_set: str = "ar5", as_of: date = AS_OF
) -> duckdb.DuckDBPyConnection:
    settings = Settings(gwp_set=gwp_set, as_of=as_of)
    build_indicator_tables(con, settings)
    build_publishable_tables(con, settings)
    build_scorecards(con, settings.rubric_version, gwp_set)
    publish_resource(con, "scorecards")
    return con


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> list[dict]:
    relation = con.execute(sql, list(params))
    names = [d[0] for d in relation.description]
    return [dict(zip(names, values, strict=True)) for values in relation.fetchall()]


def one(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> dict:
    (row,) = rows(con, sql, params)
    return row
