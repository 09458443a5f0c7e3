"""Great Expectations expectations evaluated as set-based SQL in DuckDB.

The suites stay the one definition of the rules: this module reads each expectation's configuration and
writes the query that lists the rows it flags, with the semantics of Great Expectations' pandas engine
(the engine the suites were written and tested against):

- a column-map expectation ignores rows where its column is missing (NULL, or NaN in a float column);
  `expect_column_values_to_not_be_null` and `..._to_be_null` judge exactly that;
- a column pair with `ignore_row_if="either_value_is_missing"` ignores rows where either is missing;
- compound uniqueness flags every row whose key occurs more than once (rows missing every key column are
  ignored), NULLs in a key comparing equal, as pandas' `duplicated` does;
- a row condition `column == value` holds only where the column equals the value (a missing one does
  not), `column != value` wherever it does not (a missing one does), as `DataFrame.query` reads them.

An expectation outside what this module knows (another type, `mostly` below 1, a regular expression that
DuckDB's RE2 could read differently from Python's `re`: character classes, escapes, look-arounds) is not
compiled: `compilable` says so, and the caller judges it with Great Expectations on a pandas frame.
`tests/test_expectations_sql.py` and `tests/test_batch_validation.py` (the observation suite) check that
both engines flag the same rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:
    import great_expectations.expectations as gxe

# Great Expectations is imported where an expectation is read, not with this module: the library takes
# seconds to import, and a process that judges no row (a release, the UI, a preview) should not pay it.

# A regular expression both engines read alike: anchors, literal characters, nothing else.
_PORTABLE_REGEX = re.compile(r"[\^$A-Za-z0-9=<>:;_ -]*")
_FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return None


def _condition_sql(condition: Any) -> str | None:
    """A row condition as SQL, read as pandas' `DataFrame.query` reads it; None when not supported."""
    from great_expectations.expectations.row_conditions import (
        AndCondition,
        ComparisonCondition,
        NullityCondition,
        Operator,
    )

    if condition is None:
        return "true"
    if isinstance(condition, ComparisonCondition):
        value = _literal(condition.parameter)
        column = _quote(condition.column.name)
        if value is None:
            return None
        if condition.operator == Operator.EQUAL:
            return f"coalesce({column} = {value}, false)"
        if condition.operator == Operator.NOT_EQUAL:
            return f"({column} IS DISTINCT FROM {value})"
        return None
    if isinstance(condition, NullityCondition):
        column = _quote(condition.column.name)
        return f"({column} IS NULL)" if condition.is_null else f"({column} IS NOT NULL)"
    if isinstance(condition, AndCondition):
        parts = [_condition_sql(c) for c in condition.conditions]
        return None if any(p is None for p in parts) else "(" + " AND ".join(parts) + ")"  # type: ignore[arg-type]
    return None


def _condition_columns(condition: Any) -> list[str]:
    from great_expectations.expectations.row_conditions import (
        AndCondition,
        ComparisonCondition,
        NullityCondition,
    )

    if isinstance(condition, ComparisonCondition | NullityCondition):
        return [condition.column.name]
    if isinstance(condition, AndCondition):
        return [name for c in condition.conditions for name in _condition_columns(c)]
    return []


def expectation_columns(expectation: gxe.Expectation) -> list[str]:
    """The columns an expectation reads, its row condition's included."""
    kwargs = expectation.configuration.kwargs
    names = [kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)]
    names += list(kwargs.get("column_list") or [])
    return names + _condition_columns(expectation.row_condition)


@cache
def _row_types() -> tuple[type, ...]:
    """The expectation types `compile_suite` writes as SQL."""
    import great_expectations.expectations as gxe

    return (
        gxe.ExpectColumnValuesToNotBeNull,
        gxe.ExpectColumnValuesToBeNull,
        gxe.ExpectColumnValuesToBeInSet,
        gxe.ExpectColumnValuesToBeBetween,
        gxe.ExpectColumnPairValuesAToBeGreaterThanB,
        gxe.ExpectColumnValuesToMatchRegex,
        gxe.ExpectColumnValuesToNotMatchRegex,
        gxe.ExpectCompoundColumnsToBeUnique,
    )


def compilable(expectation: gxe.Expectation) -> bool:
    """Whether `compile_suite` writes this expectation as SQL (else Great Expectations judges it)."""
    import great_expectations.expectations as gxe

    if type(expectation) not in _row_types() or getattr(expectation, "mostly", 1) != 1:
        return False
    if _condition_sql(expectation.row_condition) is None:
        return False
    if isinstance(expectation, gxe.ExpectColumnValuesToMatchRegex | gxe.ExpectColumnValuesToNotMatchRegex):
        return bool(_PORTABLE_REGEX.fullmatch(expectation.regex))
    if isinstance(expectation, gxe.ExpectColumnPairValuesAToBeGreaterThanB):
        return expectation.ignore_row_if == "either_value_is_missing"
    if isinstance(expectation, gxe.ExpectCompoundColumnsToBeUnique):
        return expectation.ignore_row_if == "all_values_are_missing"
    if isinstance(expectation, gxe.ExpectColumnValuesToBeBetween):
        return expectation.min_value is not None or expectation.max_value is not None
    return True


@dataclass(frozen=True)
class CompiledSuite:
    """The SQL of a suite's compilable expectations over one table; `expectations[i]` flags the rows of
    the query's `expectation = i`."""

    expectations: tuple[gxe.Expectation, ...]
    query: str
    value_sets: dict[str, list[Any]]  # temporary tables the query reads: name -> values


def _missing(column: str, types: dict[str, str]) -> str:
    quoted = _quote(column)
    if types.get(column, "").upper() in _FLOAT_TYPES:
        return f"({quoted} IS NULL OR isnan({quoted}))"
    return f"({quoted} IS NULL)"


def _unexpected(expectation: gxe.Expectation, types: dict[str, str], set_table: str) -> str:
    """SQL true for a row the expectation flags (its row condition aside)."""
    import great_expectations.expectations as gxe

    kwargs = expectation.configuration.kwargs
    if isinstance(expectation, gxe.ExpectColumnValuesToNotBeNull):
        return _missing(kwargs["column"], types)
    if isinstance(expectation, gxe.ExpectColumnValuesToBeNull):
        return f"NOT {_missing(kwargs['column'], types)}"
    if isinstance(expectation, gxe.ExpectColumnPairValuesAToBeGreaterThanB):
        a, b = kwargs["column_A"], kwargs["column_B"]
        operator = ">=" if expectation.or_equal else ">"
        return (
            f"NOT {_missing(a, types)} AND NOT {_missing(b, types)} "
            f"AND NOT ({_quote(a)} {operator} {_quote(b)})"
        )
    column = kwargs["column"]
    present = f"NOT {_missing(column, types)}"
    quoted = _quote(column)
    if isinstance(expectation, gxe.ExpectColumnValuesToBeInSet):
        return f"{present} AND {quoted} NOT IN (SELECT v FROM {set_table})"
    if isinstance(expectation, gxe.ExpectColumnValuesToBeBetween):
        bounds = []
        if expectation.min_value is not None:
            bounds.append(
                f"{quoted} {'>' if expectation.strict_min else '>='} {float(expectation.min_value)!r}"
            )
        if expectation.max_value is not None:
            bounds.append(
                f"{quoted} {'<' if expectation.strict_max else '<='} {float(expectation.max_value)!r}"
            )
        return f"{present} AND NOT ({' AND '.join(bounds)})"
    pattern = _literal(expectation.regex)
    found = f"regexp_matches(CAST({quoted} AS VARCHAR), {pattern})"
    if isinstance(expectation, gxe.ExpectColumnValuesToMatchRegex):
        return f"{present} AND NOT {found}"
    return f"{present} AND {found}"


def compile_suite(
    expectations: Iterable[gxe.Expectation],
    table: str,
    types: dict[str, str],
    keys: Sequence[str] = ("submission_id", "row_number"),
    prefix: str = "_gx_set",
) -> CompiledSuite:
    """One query over `table` listing (keys..., expectation) for every row a compilable expectation flags.

    `types` gives the DuckDB type of each column (`column_types`): NaN is missing in a float column.
    The expectations that judge a row alone are read in one scan of `table` (each row's list of the
    expectations it fails); each compound uniqueness groups the keys and joins the rows of the keys that
    occur more than once, where a window over every row would sort them all.
    """
    import great_expectations.expectations as gxe

    chosen = tuple(e for e in expectations if compilable(e))
    key_list = ", ".join(_quote(k) for k in keys)
    row_checks: list[tuple[int, str]] = []  # (index, SQL true for a row the expectation flags)
    selects = []
    value_sets: dict[str, list[Any]] = {}
    for index, expectation in enumerate(chosen):
        condition = _condition_sql(expectation.row_condition)
        if isinstance(expectation, gxe.ExpectCompoundColumnsToBeUnique):
            selects.append(_duplicates_sql(index, expectation.column_list, condition, table, keys, types))
            continue
        set_table = f"{prefix}_{index}"
        if isinstance(expectation, gxe.ExpectColumnValuesToBeInSet):
            value_sets[set_table] = list(expectation.value_set)
        row_checks.append((index, f"{condition} AND {_unexpected(expectation, types, set_table)}"))
    if row_checks:
        flags = ", ".join(f"CASE WHEN {check} THEN {index} END" for index, check in row_checks)
        any_flag = " OR ".join(f"({check})" for _, check in row_checks)
        selects.insert(
            0,
            f"SELECT {key_list}, unnest(list_filter([{flags}], lambda x: x IS NOT NULL)) AS expectation "
            f"FROM {table} WHERE {any_flag}",
        )
    query = (
        "\nUNION ALL\n".join(selects)
        if selects
        else f"SELECT {key_list}, 0 AS expectation FROM {table} WHERE false"
    )
    return CompiledSuite(chosen, query, value_sets)


def _duplicates_sql(
    index: int, columns: Sequence[str], condition: str, table: str, keys: Sequence[str], types: dict[str, str]
) -> str:
    """The rows whose values of `columns` occur more than once among the rows meeting `condition`
    (rows missing every column left out), NULLs comparing equal."""
    names = ", ".join(_quote(c) for c in columns)
    judged = f"{condition} AND NOT ({' AND '.join(_missing(c, types) for c in columns)})"
    same_key = " AND ".join(f"r.{_quote(c)} IS NOT DISTINCT FROM d.{_quote(c)}" for c in columns)
    row_keys = ", ".join(f"r.{_quote(k)}" for k in keys)
    repeated = f"SELECT {names} FROM {{rows}} GROUP BY ALL HAVING count(*) > 1"
    if any(types.get(c, "").upper() in _FLOAT_TYPES for c in columns):
        # 0.0 and -0.0 compare equal but need not hash alike: a float key is grouped as it is
        return (
            f"SELECT {row_keys}, {index} AS expectation FROM (SELECT * FROM {table} WHERE {judged}) AS r "
            f"JOIN ({repeated.format(rows=f'{table} WHERE {judged}')}) AS d ON {same_key}"
        )
    # The rows whose key's hash repeats hold every duplicate (equal keys hash alike, NULLs too) and only
    # the rare collision besides: grouping one hash costs a fraction of grouping the key's values, and
    # leaves next to no rows to group by the key itself.
    candidates = f"_duplicate_candidates_{index}"
    repeated_hashes = f"SELECT hash({names}) FROM {table} WHERE {judged} GROUP BY 1 HAVING count(*) > 1"
    return (
        f"SELECT * FROM (WITH {candidates} AS MATERIALIZED (SELECT * FROM {table} WHERE {judged} "
        f"AND hash({names}) IN ({repeated_hashes})) "
        f"SELECT {row_keys}, {index} AS expectation FROM {candidates} AS r "
        f"JOIN ({repeated.format(rows=candidates)}) AS d ON {same_key})"
    )


def column_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """The DuckDB type of each column of a table or view."""
    return {row[0]: str(row[1]) for row in con.execute(f"DESCRIBE {table}").fetchall()}


def flagged_by_sql(con: duckdb.DuckDBPyConnection, compiled: CompiledSuite) -> duckdb.DuckDBPyRelation:
    """Run a compiled suite: its value sets as temporary tables, then the query (a relation)."""
    create_value_sets(con, compiled)
    return con.sql(compiled.query)


def create_value_sets(con: duckdb.DuckDBPyConnection, compiled: CompiledSuite) -> None:
    """The temporary tables of the value sets a compiled suite's query reads."""
    for name, values in compiled.value_sets.items():
        if values:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT unnest(?) AS v", [values])
        else:  # an empty set: every present value is unexpected
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} (v VARCHAR)")


def drop_value_sets(con: duckdb.DuckDBPyConnection, compiled: CompiledSuite) -> None:
    for name in compiled.value_sets:
        con.execute(f"DROP TABLE IF EXISTS {name}")
