"""Published tables read from the warehouse's `pub_*` tables, typed and ordered by the metadata model."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from instep.metadata.model import Resource, arrow_schema


class PublishedTableError(ValueError):
    pass


def pub_table_name(resource: Resource) -> str:
    return f"pub_{resource.name}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_pub_table(con: duckdb.DuckDBPyConnection, resource: Resource) -> pa.Table:
    """The rows of `pub_<resource>` in the resource's columns and stable row order.

    Rows are sorted by `Resource.order`, then by every remaining column, so the order never depends on
    how the warehouse happened to store them.
    """
    table = pub_table_name(resource)
    present = {row[0] for row in con.execute(f"DESCRIBE {_quote(table)}").fetchall()}
    missing = [name for name in resource.field_names if name not in present]
    if missing:
        raise PublishedTableError(
            f"warehouse table {table} lacks the columns {', '.join(missing)} of resource {resource.name}"
        )
    order = list(resource.order) + [n for n in resource.field_names if n not in resource.order]
    columns = ", ".join(
        f"CAST({_quote(f.name)} AS {f.duckdb_type}) AS {_quote(f.name)}" for f in resource.fields
    )
    sort = ", ".join(f"{_quote(name)} ASC NULLS FIRST" for name in order)
    result = con.sql(f"SELECT {columns} FROM {_quote(table)} ORDER BY {sort}").to_arrow_table()
    return result.cast(arrow_schema(resource))


def pub_tables_present(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        row[0]
        for row in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'pub\\_%' ESCAPE '\\'"
        ).fetchall()
    }
