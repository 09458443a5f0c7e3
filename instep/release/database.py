"""The release's DuckDB database: the same tables as the CSV and Parquet files, DDL from the metadata model.

The file describes itself: every table and column carries the model's description (and unit) as a
DuckDB comment, the primary and foreign keys are those of `datapackage.json`, and an `about` table says
which release it is, under which licence, how to cite it and whether the data are synthetic.

DuckDB (since 1.4) writes a random 16-byte database identifier into the main file header, used to match
a write-ahead log to its database (duckdb/duckdb pull request 18823), so two databases built from the
same rows differ in those bytes and in the header checksum. A release must be byte-reproducible, so after
the database is closed (checkpointed, no write-ahead log) the identifier is replaced by one derived from
the package name and version and the header checksum recomputed. The header layout is checked first; if
it is not the one this code knows, the file is left as DuckDB wrote it and the release records that the
database is not byte-reproducible (nothing is hidden).

Strings are stored uncompressed: DuckDB issue 23382 reports that compressed string segments can carry
uninitialised memory into the file, which would make it non-reproducible and could leak other data of
the process.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from instep.metadata.about import ABOUT
from instep.metadata.model import Field, Resource, arrow_schema, quote, sql_literal, table_ddl
from instep.release import about, citation

HEADER_SIZE = 4096
MAGIC_OFFSET = 8
MAGIC = b"DUCK"
# Storage versions whose main header carries the identifier at this offset (checked on DuckDB 2.0).
KNOWN_HEADER_LAYOUTS = {999: 124}
IDENTIFIER_LENGTH = 16
_CHECKSUM_MULTIPLIER = 0xBF58476D1CE4E5B9
_MASK = 0xFFFFFFFFFFFFFFFF


def header_checksum(block: bytes) -> int:
    """DuckDB's block checksum: XOR of each little-endian 64-bit word times a constant, seeded 5381."""
    result = 5381
    for (word,) in struct.iter_unpack("<Q", block[: len(block) // 8 * 8]):
        result ^= (word * _CHECKSUM_MULTIPLIER) & _MASK
    if len(block) % 8:
        raise ValueError("header block length is not a multiple of 8")
    return result


def fix_database_identifier(path: Path, seed: str) -> bool:
    """Replace the random database identifier by one derived from `seed`; False if the layout is unknown."""
    data = bytearray(path.read_bytes())
    if len(data) < HEADER_SIZE or data[MAGIC_OFFSET : MAGIC_OFFSET + 4] != MAGIC:
        return False
    (storage_version,) = struct.unpack_from("<Q", data, MAGIC_OFFSET + 4)
    offset = KNOWN_HEADER_LAYOUTS.get(storage_version)
    (stored,) = struct.unpack_from("<Q", data, 0)
    if offset is None or stored != header_checksum(bytes(data[8:HEADER_SIZE])):
        return False
    identifier = hashlib.sha256(seed.encode("utf-8")).digest()[:IDENTIFIER_LENGTH]
    data[offset : offset + IDENTIFIER_LENGTH] = identifier
    struct.pack_into("<Q", data, 0, header_checksum(bytes(data[8:HEADER_SIZE])))
    path.write_bytes(bytes(data))
    return True


def column_comment(field: Field) -> str:
    return field.description + (f" Unit: {field.unit}." if field.unit else "")


def table_comment(resource: Resource) -> str:
    return f"{resource.title}. {resource.description}"


def about_row(name: str, version: str, release_date: date, synthetic: bool, homepage: str) -> dict[str, Any]:
    """The one row of the `about` table."""
    title = about.TITLE + (" (synthetic demonstration data)" if synthetic else "")
    return {
        "package": name,
        "version": version,
        "release_date": release_date,
        "title": title,
        "publisher": about.PUBLISHER,
        "homepage": homepage,
        "licence": about.LICENSE["name"],
        "licence_url": about.LICENSE["path"],
        "citation": (
            f"{about.PUBLISHER} ({release_date.year}). {title}, version {version} [data set]. " + homepage
        ),
        "citation_bibtex": citation.citation_bib(name, version, release_date, synthetic, homepage),
        "synthetic": synthetic,
    }


def creation_order(resources: Sequence[Resource]) -> list[Resource]:
    """The resources with every referenced table before the tables referring to it (stable otherwise)."""
    names = {r.name for r in resources}
    ordered: list[Resource] = []
    waiting = list(resources)
    while waiting:
        done = {r.name for r in ordered}
        ready = [
            r for r in waiting if all(fk.resource in done or fk.resource == r.name for fk in r.foreign_keys)
        ]
        if not ready:
            missing = sorted({fk.resource for r in waiting for fk in r.foreign_keys} - names)
            raise ValueError(
                "the foreign keys of "
                + ", ".join(r.name for r in waiting)
                + (
                    f" name tables the release does not hold: {', '.join(missing)}"
                    if missing
                    else " form a cycle"
                )
            )
        ordered += ready
        waiting = [r for r in waiting if r not in ready]
    return ordered


def _create_table(con: duckdb.DuckDBPyConnection, resource: Resource, rows: pa.Table) -> None:
    con.execute(
        table_ddl(
            resource.name,
            resource.fields,
            resource.primary_key,
            create="CREATE TABLE",
            foreign_keys=resource.foreign_keys,
        )
    )
    con.execute(f"COMMENT ON TABLE {quote(resource.name)} IS {sql_literal(table_comment(resource))}")
    for field in resource.fields:
        column = f"{quote(resource.name)}.{quote(field.name)}"
        con.execute(f"COMMENT ON COLUMN {column} IS {sql_literal(column_comment(field))}")
    con.register("release_rows", rows)
    columns = ", ".join(quote(name) for name in resource.field_names)
    con.execute(f"INSERT INTO {quote(resource.name)} SELECT {columns} FROM release_rows")
    con.unregister("release_rows")


def write_database(
    path: Path,
    resources: Sequence[Resource],
    tables: Mapping[str, pa.Table],
    *,
    seed: str,
    release_about: Mapping[str, Any],
) -> bool:
    """Write every resource as a table of a new DuckDB file, and the `about` row; True when the file is
    byte-reproducible."""
    con = duckdb.connect(str(path))
    try:
        con.execute("SET threads = 1")
        con.execute("SET force_compression = 'uncompressed'")
        # One transaction: otherwise every table and column comment is a commit of its own, with its
        # write to the log (about a third of writing a small release's file). The checkpointed file
        # has the same bytes either way.
        con.execute("BEGIN TRANSACTION")
        for resource in creation_order(resources):
            _create_table(con, resource, tables[resource.name])
        _create_table(con, ABOUT, pa.Table.from_pylist([dict(release_about)], schema=arrow_schema(ABOUT)))
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        raise RuntimeError(f"{path.name}: DuckDB left a write-ahead log after the checkpoint")
    reproducible = fix_database_identifier(path, seed)
    # The patched file must still open and hold the rows.
    check = duckdb.connect(str(path), read_only=True)
    try:
        for resource in resources:
            (count,) = check.execute(f"SELECT count(*) FROM {quote(resource.name)}").fetchone()
            if count != tables[resource.name].num_rows:
                raise RuntimeError(f"{path.name}: table {resource.name} has {count} rows after writing")
    finally:
        check.close()
    return reproducible
