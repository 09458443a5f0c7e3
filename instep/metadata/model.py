"""The metadata model: fields, foreign keys and tables (published resources and warehouse tables).

Every DuckDB `CREATE TABLE`, every Arrow schema and every Table Schema of the project comes from the
functions below applied to a `Resource`; nothing else spells a table's columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa

if TYPE_CHECKING:
    import duckdb

FieldType = Literal["string", "integer", "number", "boolean", "date", "year", "yearmonth"]

# DuckDB column types for each Table Schema type.
DUCKDB_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "year": "INTEGER",
    "yearmonth": "VARCHAR",
}

# Arrow types of each Table Schema type; the staged rows, the Parquet files and the release database use
# these.
ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "year": pa.int32(),
    "yearmonth": pa.string(),
}


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    description: str
    unit: str | None = None
    required: bool = False
    enum: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    # No two rows share a value (a single-column key besides the primary key).
    unique: bool = False

    def constraints(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.required:
            out["required"] = True
        if self.unique:
            out["unique"] = True
        if self.enum is not None:
            out["enum"] = list(self.enum)
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        if self.pattern is not None:
            out["pattern"] = self.pattern
        return out

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.type]

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.type]


@dataclass(frozen=True)
class ForeignKey:
    fields: tuple[str, ...]
    resource: str
    reference_fields: tuple[str, ...]
    # The blocking check of the pipeline that already guarantees this key, if any (its name): the
    # table's constraint check reports the key as held by it instead of joining the tables again.
    held_by: str = ""


@dataclass(frozen=True)
class Resource:
    """A table: its name, meaning, columns, keys and row order.

    Published resources are Frictionless resources; warehouse tables (the registry, the ingestion ledger)
    use the same description, so their DDL, Arrow schemas and checks come from one place too.
    """

    name: str
    title: str
    description: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    # Rows are written in this order so that releases are byte-identical; defaults to the primary key.
    sort_by: tuple[str, ...] = ()
    caveats: tuple[str, ...] = field(default_factory=tuple)
    # For warehouse tables: what one row stands for (the CONTRIBUTING table list).
    row: str = ""

    @property
    def order(self) -> tuple[str, ...]:
        return self.sort_by or self.primary_key

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def required_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required or f.name in self.primary_key)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    def enum_of(self, name: str) -> tuple[str, ...]:
        values = self.field(name).enum
        if values is None:
            raise KeyError(f"{self.name}.{name} has no enum")
        return values

    def pattern_of(self, name: str) -> str:
        pattern = self.field(name).pattern
        if pattern is None:
            raise KeyError(f"{self.name}.{name} has no pattern")
        return pattern

    def duckdb_ddl(self) -> str:
        """CREATE TABLE of the published table (primary key only), as the release database declares it."""
        return table_ddl(self.name, self.fields, self.primary_key, create="CREATE TABLE")

    def arrow_schema(self) -> pa.Schema:
        return arrow_schema(self)


def quote(name: str) -> str:
    """A DuckDB identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def table_ddl(
    table: str,
    fields: Sequence[Field],
    primary_key: Sequence[str],
    *,
    create: str = "CREATE OR REPLACE TABLE",
    enforce: bool = False,
    foreign_keys: Sequence[ForeignKey] = (),
) -> str:
    """The DuckDB DDL of a table described by metadata fields.

    `enforce` adds the field constraints DuckDB can hold (NOT NULL for required fields, UNIQUE, CHECK for
    enums): the warehouse's ledger and registry tables are declared so, and a broken insert fails there
    instead of later. Computed tables keep their key only; their constraints are asset checks.
    """
    columns = []
    for f in fields:
        column = f"{quote(f.name)} {f.duckdb_type}"
        if enforce:
            if f.required and f.name not in primary_key:
                column += " NOT NULL"
            if f.unique:
                column += " UNIQUE"
            if f.enum is not None:
                allowed = ", ".join(sql_literal(value) for value in f.enum)
                column += f" CHECK ({quote(f.name)} IN ({allowed}))"
        columns.append(column)
    if primary_key:
        columns.append(f"PRIMARY KEY ({', '.join(quote(k) for k in primary_key)})")
    for fk in foreign_keys:
        columns.append(
            f"FOREIGN KEY ({', '.join(quote(c) for c in fk.fields)}) REFERENCES {quote(fk.resource)} "
            f"({', '.join(quote(c) for c in fk.reference_fields)})"
        )
    body = ",\n  ".join(columns)
    return f"{create} {quote(table)} (\n  {body}\n)"


def arrow_field(field: Field) -> pa.Field:
    metadata = {"description": field.description}
    if field.unit:
        metadata["unit"] = field.unit
    return pa.field(field.name, field.arrow_type, nullable=True, metadata=metadata)


def arrow_schema(resource: Resource) -> pa.Schema:
    return pa.schema([arrow_field(f) for f in resource.fields], metadata={"resource": resource.name})


def records_table(fields: Sequence[Field], records: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Records (one mapping per row, a value for every field) as an Arrow table of the fields' types: the
    way to insert rows computed in Python in one statement (DuckDB's `executemany` runs one per row)."""
    return pa.table({f.name: pa.array([r[f.name] for r in records], f.arrow_type) for f in fields})


def insert_records(
    con: duckdb.DuckDBPyConnection, table: str, fields: Sequence[Field], records: Sequence[Mapping[str, Any]]
) -> None:
    """Insert `records` into the `fields` of `table` in one statement, through `records_table`."""
    if not records:
        return
    names = ", ".join(quote(f.name) for f in fields)
    con.register("_insert_records", records_table(fields, records))
    try:
        con.execute(f"INSERT INTO {quote(table)} ({names}) SELECT {names} FROM _insert_records")
    finally:
        con.unregister("_insert_records")
