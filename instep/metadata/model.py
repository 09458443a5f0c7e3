"""The metadata model: fields, foreign keys and resources (published tables)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

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

    def constraints(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.required:
            out["required"] = True
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


@dataclass(frozen=True)
class ForeignKey:
    fields: tuple[str, ...]
    resource: str
    reference_fields: tuple[str, ...]


@dataclass(frozen=True)
class Resource:
    """A published table: its name, meaning, columns, keys and row order."""

    name: str
    title: str
    description: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    # Rows are written in this order so that releases are byte-identical; defaults to the primary key.
    sort_by: tuple[str, ...] = ()
    caveats: tuple[str, ...] = field(default_factory=tuple)

    @property
    def order(self) -> tuple[str, ...]:
        return self.sort_by or self.primary_key

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    def duckdb_ddl(self) -> str:
        columns = ",\n  ".join(f'"{f.name}" {f.duckdb_type}' for f in self.fields)
        key = ", ".join(f'"{k}"' for k in self.primary_key)
        return f'CREATE TABLE "{self.name}" (\n  {columns},\n  PRIMARY KEY ({key})\n)'
