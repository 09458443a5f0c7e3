"""The steward's registry of parks and facilities: read, checked and loaded into the warehouse."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from instep.metadata.model import Resource, table_ddl
from instep.metadata.registry import CONFIRMATIONS, REGISTRY_FACILITIES, REGISTRY_PARKS

PARK_COLUMNS = REGISTRY_PARKS.field_names
FACILITY_COLUMNS = REGISTRY_FACILITIES.field_names
FACILITY_TYPES = REGISTRY_FACILITIES.enum_of("type")
SECTORS = REGISTRY_FACILITIES.enum_of("sector")
DISCLOSURES = REGISTRY_FACILITIES.enum_of("disclosure")
PARK_ID = re.compile(REGISTRY_PARKS.pattern_of("park_id"))
FACILITY_ID = re.compile(REGISTRY_FACILITIES.pattern_of("facility_id"))


class RegistryError(ValueError):
    pass


@dataclass(frozen=True)
class Registry:
    parks: list[dict[str, str]]
    facilities: list[dict[str, str]]
    # Rows the steward confirmed although they break the facility's history (implausible_change).
    confirmations: list[dict[str, str]] = field(default_factory=list)

    @property
    def facility_ids(self) -> list[str]:
        return [row["facility_id"] for row in self.facilities]


def _read(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    if not path.exists():
        raise RegistryError(f"{path.name}: registry file not found in {path.parent}")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise RegistryError(f"{path.name}: missing columns {', '.join(missing)}")
        return [{c: (row[c] or "").strip() for c in columns} for row in reader]


def _check_date(file: str, line: int, column: str, text: str, required: bool) -> None:
    if not text:
        if required:
            raise RegistryError(f"{file} line {line}: {column} is required (YYYY-MM-DD)")
        return
    try:
        date.fromisoformat(text)
    except ValueError:
        raise RegistryError(f"{file} line {line}: {column} {text!r} is not a date YYYY-MM-DD") from None


def read_registry(registry_dir: Path) -> Registry:
    """Read and check parks.csv and facilities.csv; errors name the file, line and column."""
    parks = _read(registry_dir / "parks.csv", PARK_COLUMNS)
    park_ids: set[str] = set()
    for line, park in enumerate(parks, start=2):
        if not PARK_ID.match(park["park_id"]):
            raise RegistryError(f"parks.csv line {line}: park_id {park['park_id']!r} is not like ET-HAW")
        if park["park_id"] in park_ids:
            raise RegistryError(f"parks.csv line {line}: park_id {park['park_id']} appears twice")
        park_ids.add(park["park_id"])
        for column in ("lat", "lon", "area_ha"):
            try:
                float(park[column])
            except ValueError:
                raise RegistryError(
                    f"parks.csv line {line}: {column} {park[column]!r} is not a number"
                ) from None
        _check_date("parks.csv", line, "established", park["established"], required=False)
    facilities = read_facilities(registry_dir / "facilities.csv", park_ids)
    return Registry(parks=parks, facilities=facilities, confirmations=read_confirmations(registry_dir))


def read_facilities(path: Path, park_ids: set[str] | None = None) -> list[dict[str, str]]:
    """Read and check a facilities.csv; each park_id is checked against `park_ids` when given (a factory
    checking its file has the facilities list without the parks)."""
    facilities = _read(path, FACILITY_COLUMNS)
    facility_ids: set[str] = set()
    for line, facility in enumerate(facilities, start=2):
        fid = facility["facility_id"]
        if not FACILITY_ID.match(fid):
            raise RegistryError(f"{path.name} line {line}: facility_id {fid!r} is not like ET-HAW-F003")
        if fid in facility_ids:
            raise RegistryError(f"{path.name} line {line}: facility_id {fid} appears twice")
        facility_ids.add(fid)
        if park_ids is not None and facility["park_id"] not in park_ids:
            raise RegistryError(
                f"{path.name} line {line}: park_id {facility['park_id']!r} is not in parks.csv"
            )
        for column, allowed in (("type", FACILITY_TYPES), ("disclosure", DISCLOSURES), ("sector", SECTORS)):
            if facility[column] not in allowed and (facility[column] or column != "sector"):
                raise RegistryError(
                    f"{path.name} line {line}: {column} {facility[column]!r} "
                    f"is not one of {', '.join(allowed)}"
                )
        _check_date(path.name, line, "active_from", facility["active_from"], required=True)
        _check_date(path.name, line, "active_to", facility["active_to"], required=False)
    return facilities


CONFIRMATIONS_FILE = "confirmations.csv"
CONFIRMATION_COLUMNS = CONFIRMATIONS.field_names


def read_confirmations(registry_dir: Path) -> list[dict[str, str]]:
    """The optional confirmations.csv: each line names one row by submission id and row number, or
    every row of a facility, period and metric."""
    path = registry_dir / CONFIRMATIONS_FILE
    if not path.exists():
        return []
    rows = _read(path, CONFIRMATION_COLUMNS)
    for line, row in enumerate(rows, start=2):
        by_row = bool(row["submission_id"] and row["row_number"])
        by_key = bool(row["facility_id"] and row["period"] and row["metric"])
        if not (by_row or by_key):
            raise RegistryError(
                f"{CONFIRMATIONS_FILE} line {line}: give submission_id and row_number, or facility_id, "
                "period and metric"
            )
        if row["row_number"] and not row["row_number"].isdigit():
            raise RegistryError(
                f"{CONFIRMATIONS_FILE} line {line}: row_number {row['row_number']!r} is not a whole number"
            )
    return rows


def _replace_table(con: duckdb.DuckDBPyConnection, table: Resource, rows: list[dict[str, str]]) -> None:
    con.execute(table_ddl(table.name, table.fields, table.primary_key, enforce=True))
    if rows:
        # One insert of an Arrow table of the text, cast by DuckDB to the columns' types: a statement per
        # row (executemany) costs milliseconds each, minutes for a registry of 20,000 facilities.
        text = pa.table(
            {c: pa.array([row[c] or None for row in rows], pa.string()) for c in table.field_names}
        )
        con.register("_registry_rows", text)
        try:
            con.execute(f'INSERT INTO "{table.name}" SELECT * FROM _registry_rows')
        finally:
            con.unregister("_registry_rows")


def load_registry(con: duckdb.DuckDBPyConnection, registry: Registry) -> None:
    """Replace the warehouse's parks, facilities and confirmations with the registry's current content."""
    _replace_table(con, REGISTRY_PARKS, registry.parks)
    _replace_table(con, REGISTRY_FACILITIES, registry.facilities)
    _replace_table(con, CONFIRMATIONS, registry.confirmations)
