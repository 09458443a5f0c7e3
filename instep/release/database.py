"""The release's DuckDB database: the same tables as the CSV and Parquet files, DDL from the metadata model.

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
from pathlib import Path

import duckdb
import pyarrow as pa

from instep.metadata.model import Resource

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


def write_database(
    path: Path, resources: Sequence[Resource], tables: Mapping[str, pa.Table], *, seed: str
) -> bool:
    """Write every resource as a table of a new DuckDB file; True when the file is byte-reproducible."""
    con = duckdb.connect(str(path))
    try:
        con.execute("SET threads = 1")
        con.execute("SET force_compression = 'uncompressed'")
        for resource in resources:
            con.execute(resource.duckdb_ddl())
            con.register("release_rows", tables[resource.name])
            columns = ", ".join(f'"{name}"' for name in resource.field_names)
            con.execute(f'INSERT INTO "{resource.name}" SELECT {columns} FROM release_rows')
            con.unregister("release_rows")
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
            (count,) = check.execute(f'SELECT count(*) FROM "{resource.name}"').fetchone()
            if count != tables[resource.name].num_rows:
                raise RuntimeError(f"{path.name}: table {resource.name} has {count} rows after writing")
    finally:
        check.close()
    return reproducible
