"""The DuckDB warehouse: its ledger tables and the single-writer lock.

DuckDB allows one writing process per database file. Every writer takes `warehouse.lock` first, so a
second run waits briefly and then stops with a clear message instead of failing half-way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from filelock import FileLock, Timeout

from instep.settings import Settings

LEDGER_DDL = """
CREATE TABLE IF NOT EXISTS submission_files (
    submission_id VARCHAR PRIMARY KEY,
    file_hash VARCHAR NOT NULL UNIQUE,
    original_name VARCHAR NOT NULL,
    archived_path VARCHAR NOT NULL,
    format VARCHAR NOT NULL,
    file_seq BIGINT NOT NULL UNIQUE,
    status VARCHAR NOT NULL,
    rule VARCHAR,
    message VARCHAR,
    rows_read BIGINT NOT NULL,
    ignored_columns VARCHAR
);
CREATE TABLE IF NOT EXISTS staged_rows (
    submission_id VARCHAR NOT NULL,
    file_seq BIGINT NOT NULL,
    row_number BIGINT NOT NULL,
    facility_id VARCHAR, period VARCHAR, metric VARCHAR, value VARCHAR, unit VARCHAR,
    sample_point VARCHAR, sample_date VARCHAR, comment VARCHAR,
    extra_cells BOOLEAN NOT NULL,
    PRIMARY KEY (submission_id, row_number)
);
CREATE TABLE IF NOT EXISTS submission_rows (
    submission_id VARCHAR NOT NULL,
    file_seq BIGINT NOT NULL,
    row_number BIGINT NOT NULL,
    facility_id VARCHAR, period VARCHAR, metric VARCHAR, value VARCHAR, unit VARCHAR,
    sample_point VARCHAR, sample_date VARCHAR, comment VARCHAR,
    state VARCHAR NOT NULL CHECK (state IN ('accepted', 'rejected', 'superseded')),
    rule VARCHAR,
    message VARCHAR,
    superseded_by VARCHAR,
    PRIMARY KEY (submission_id, row_number)
);
CREATE TABLE IF NOT EXISTS row_issues (
    submission_id VARCHAR NOT NULL,
    row_number BIGINT NOT NULL,
    "column" VARCHAR NOT NULL,
    rule VARCHAR NOT NULL,
    value VARCHAR,
    expected VARCHAR,
    message VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS observations (
    submission_id VARCHAR NOT NULL,
    row_number BIGINT NOT NULL,
    facility_id VARCHAR NOT NULL,
    park_id VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    year INTEGER NOT NULL,
    metric VARCHAR NOT NULL,
    topic VARCHAR NOT NULL,
    value DOUBLE NOT NULL,
    unit VARCHAR NOT NULL,
    censored BOOLEAN NOT NULL,
    submitted_value VARCHAR NOT NULL,
    submitted_unit VARCHAR NOT NULL,
    sample_point VARCHAR,
    sample_date DATE,
    PRIMARY KEY (submission_id, row_number)
);
"""


class WarehouseBusy(RuntimeError):
    pass


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
