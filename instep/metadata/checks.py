"""Checks derived from a table's constraints, as SQL that counts the rows breaking each one.

Every constraint of the model becomes one query: required fields and key columns not null, the primary
key and unique fields without duplicates, enum fields within their values, string fields matching their
pattern, foreign keys resolving in the referenced table. The asset checks of the warehouse run these; a
table's DDL holds the same constraints where DuckDB can (see `table_ddl`), the rest only here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import duckdb

from instep.metadata.model import Resource, quote, sql_literal

CheckKind = Literal["not_null", "unique", "enum", "pattern", "foreign_key"]


@dataclass(frozen=True)
class ConstraintCheck:
    table: str
    kind: CheckKind
    columns: tuple[str, ...]
    description: str
    # A query returning one number: the rows that break the constraint.
    sql: str
    # For a constraint judged row by row (not null, enum, pattern): the condition of a breaking row, the
    # WHERE of `sql`, so that several can be counted in one scan.
    row_condition: str | None = None
    # A foreign key another blocking check guarantees (see ForeignKey.held_by): not scanned for here.
    held_by: str = ""

    @property
    def name(self) -> str:
        return f"{self.kind}({', '.join(self.columns)})"


def _columns(columns: tuple[str, ...]) -> str:
    return ", ".join(quote(c) for c in columns)


def _row_check(table: str, kind: CheckKind, column: str, description: str, condition: str) -> ConstraintCheck:
    sql = f"SELECT count(*) FROM {quote(table)} WHERE {condition}"
    return ConstraintCheck(table, kind, (column,), description, sql, row_condition=condition)


def constraint_checks(table: Resource) -> tuple[ConstraintCheck, ...]:
    """The SQL checks of every constraint of `table` (its name is the warehouse table's)."""
    name = quote(table.name)
    checks: list[ConstraintCheck] = []
    for column in table.required_names:
        checks.append(
            _row_check(table.name, "not_null", column, f"{column} is never empty", f"{quote(column)} IS NULL")
        )
    keys = [table.primary_key] if table.primary_key else []
    keys += [(f.name,) for f in table.fields if f.unique]
    for key in keys:
        checks.append(
            ConstraintCheck(
                table.name,
                "unique",
                key,
                f"no two rows share {', '.join(key)}",
                # Rows with an empty key column are the not-null check's; SQL keys let them repeat.
                f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {name} "
                f"WHERE {' AND '.join(f'{quote(c)} IS NOT NULL' for c in key)} "
                f"GROUP BY {_columns(key)} HAVING count(*) > 1)",
            )
        )
    for f in table.fields:
        if f.enum is not None:
            allowed = ", ".join(sql_literal(value) for value in f.enum)
            checks.append(
                _row_check(
                    table.name,
                    "enum",
                    f.name,
                    f"{f.name} is one of {', '.join(f.enum)}",
                    f"{quote(f.name)} NOT IN ({allowed})",
                )
            )
        if f.pattern is not None and f.duckdb_type == "VARCHAR":
            checks.append(
                _row_check(
                    table.name,
                    "pattern",
                    f.name,
                    f"{f.name} matches {f.pattern}",
                    f"NOT regexp_full_match({quote(f.name)}, {sql_literal(f.pattern)})",
                )
            )
    for fk in table.foreign_keys:
        match = " AND ".join(
            f"r.{quote(ref)} = t.{quote(col)}"
            for col, ref in zip(fk.fields, fk.reference_fields, strict=True)
        )
        present = " AND ".join(f"t.{quote(col)} IS NOT NULL" for col in fk.fields)
        checks.append(
            ConstraintCheck(
                table.name,
                "foreign_key",
                fk.fields,
                f"every {', '.join(fk.fields)} is in {fk.resource}",
                f"SELECT count(*) FROM {name} AS t WHERE {present} "
                f"AND NOT EXISTS (SELECT 1 FROM {quote(fk.resource)} AS r WHERE {match})",
                held_by=fk.held_by,
            )
        )
    return tuple(checks)


@dataclass(frozen=True)
class CheckOutcome:
    check: ConstraintCheck
    failing_rows: int
    # DuckDB holds the constraint on the live table (a NOT NULL, PRIMARY KEY or UNIQUE of its DDL): no
    # write that breaks it can commit, so the rows are not counted again.
    enforced: bool = False

    @property
    def held_by(self) -> str:
        """The blocking check that guarantees the constraint instead (its rows not counted here)."""
        return self.check.held_by


def enforced_constraints(con: duckdb.DuckDBPyConnection, table: str) -> set[tuple[str, tuple[str, ...]]]:
    """(kind, columns) of the not-null and unique constraints DuckDB holds on `table`."""
    kinds = {"NOT NULL": "not_null", "PRIMARY KEY": "unique", "UNIQUE": "unique"}
    return {
        (kinds[kind], tuple(columns))
        for kind, columns in con.execute(
            "SELECT constraint_type, constraint_column_names FROM duckdb_constraints() "
            "WHERE table_name = ? AND constraint_type IN ('NOT NULL', 'PRIMARY KEY', 'UNIQUE')",
            [table],
        ).fetchall()
    }


def run_constraint_checks(con: duckdb.DuckDBPyConnection, table: Resource) -> list[CheckOutcome]:
    """Every constraint check of `table` with the number of rows breaking it.

    A constraint DuckDB enforces on the table, or a foreign key another blocking check guarantees
    (`held_by`), is not scanned for; the row by row ones are counted in one pass; each key and foreign
    key is a query of its own.
    """
    checks = constraint_checks(table)
    enforced = enforced_constraints(con, table.name)
    counts: dict[ConstraintCheck, int] = {}
    by_row = [c for c in checks if c.row_condition is not None and (c.kind, c.columns) not in enforced]
    if by_row:
        filters = ", ".join(f"count(*) FILTER (WHERE {c.row_condition})" for c in by_row)
        found = con.execute(f"SELECT {filters} FROM {quote(table.name)}").fetchone()
        counts |= {check: int(n) for check, n in zip(by_row, found, strict=True)}
    outcomes = []
    for check in checks:
        if (check.kind, check.columns) in enforced:
            outcomes.append(CheckOutcome(check, 0, enforced=True))
            continue
        if check.held_by:
            outcomes.append(CheckOutcome(check, 0))
            continue
        if check not in counts:
            counts[check] = int(con.execute(check.sql).fetchone()[0])
        outcomes.append(CheckOutcome(check, counts[check]))
    return outcomes
