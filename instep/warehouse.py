"""The DuckDB warehouse: its ledger tables and the single-writer lock.

DuckDB allows one writing process per database file. Every writer takes `warehouse.lock` first, so a
second run waits briefly and then stops with a clear message instead of failing half-way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from filelock import FileLock, Timeout

from instep.metadata.ledger import LEDGER_TABLES
from instep.metadata.model import table_ddl
from instep.settings import Settings

# Every ledger table, declared from the metadata model with its constraints; kept when it exists.
LEDGER_DDL = ";\n".join(
    table_ddl(table.name, table.fields, table.primary_key, create="CREATE TABLE IF NOT EXISTS", enforce=True)
    for table in LEDGER_TABLES
)


# What a scan of whole ledger tables may hold in memory: the checks judge every row of tables of tens of
# millions of rows after each new file, and DuckDB keeps the blocks it reads (and the hash tables of its
# joins) up to its memory limit, by default most of the machine; bounded, it evicts and spills to its
# temporary directory instead. The full rebuild's writes keep the default.
SCAN_MEMORY_LIMIT = "1GB"


class WarehouseBusy(RuntimeError):
    pass


@contextmanager
def bounded_memory(con: duckdb.DuckDBPyConnection, limit: str = SCAN_MEMORY_LIMIT) -> Iterator[None]:
    """Run the block with DuckDB's memory limited to `limit`, then back to DuckDB's default (the
    warehouse's connections set no limit of their own)."""
    con.execute(f"SET memory_limit = '{limit}'")
    try:
        yield
    finally:
        con.execute("RESET memory_limit")


@contextmanager
def writer_lock(settings: Settings, timeout_s: float = 10.0) -> Iterator[None]:
    settings.workspace.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(settings.lock_path))
    try:
        lock.acquire(timeout=timeout_s)
    except Timeout:
        raise WarehouseBusy(
            f"another run is writing to {settings.warehouse_path.name} in {settings.workspace} "
            f"(lock {settings.lock_path.name} held for more than {timeout_s:.0f} s); "
            "wait for it to finish and try again"
        ) from None
    try:
        yield
    finally:
        lock.release()


# Run locks this process holds, by path: a run started inside a run (the CLI writes the demo data, then
# runs the job) takes the lock once; a second lock on the same file would wait for the first.
_held_run_locks: dict[str, int] = {}


@contextmanager
def run_lock(settings: Settings) -> Iterator[None]:
    """Held for a whole run, taken before it touches anything: a second run on the workspace is refused
    at once, instead of both failing halfway (the warehouse lock is only held per connection, and the
    site build needs none)."""
    key = str(settings.run_lock_path)
    if _held_run_locks.get(key):
        _held_run_locks[key] += 1
        try:
            yield
        finally:
            _held_run_locks[key] -= 1
        return
    settings.workspace.mkdir(parents=True, exist_ok=True)
    lock = FileLock(key)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise WarehouseBusy(
            f"another run is working on the workspace {settings.workspace} (lock "
            f"{settings.run_lock_path.name}); this run changed nothing. Wait for the other to finish and "
            "try again"
        ) from None
    _held_run_locks[key] = 1
    try:
        yield
    finally:
        _held_run_locks.pop(key, None)
        lock.release()


@contextmanager
def connect(settings: Settings, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse; writers hold the lock for the connection's lifetime."""
    if read_only:
        con = duckdb.connect(str(settings.warehouse_path), read_only=True)
        try:
            yield con
        finally:
            con.close()
        return
    with writer_lock(settings):
        con = duckdb.connect(str(settings.warehouse_path))
        try:
            con.execute(LEDGER_DDL)
            yield con
        finally:
            con.close()
