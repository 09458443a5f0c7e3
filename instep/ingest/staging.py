"""Staging: each new inbox file read once, archived by content hash and recorded in `submission_files`,
its rows put in `staged_rows` as submitted text, in one transaction.

A file whose content was seen before is skipped: re-ingesting is a no-op. A crash rolls the transaction
back; the archive is content-addressed, so writing a file there again is harmless.

Telling the new files from those already ingested costs a `stat` per inbox file, not a read: every file
read is fingerprinted in `inbox_fingerprints` (name, size, modification time, hash), and a file found
again with the same fingerprint is skipped unread. Only new or changed files are read and hashed, and the
hash decides, as before, whether their content is new.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from instep.ingest.archive import archive_name, archive_ready, file_sha256, publish_archived
from instep.metadata.ledger import INBOX_FINGERPRINTS, STAGED_ROWS, SUBMISSION_FILES
from instep.metadata.model import arrow_schema
from instep.readers import (
    MAX_FILE_BYTES,
    SUBMISSION_COLUMNS,
    SubmissionTable,
    UnreadableFile,
    read_submission,
    read_submission_data,
)
from instep.readers.core import unreadable
from instep.workers import can_fork, forked_pool

SUBMISSION_ID_HEX = 16
IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


def submission_id_for(file_hash: str) -> str:
    return "S-" + file_hash[:SUBMISSION_ID_HEX]


def inbox_files(inbox: Path) -> list[Path]:
    """Files waiting in the inbox, in the order they are ingested (by name).

    Hidden files (a leading dot: editor lock files, ".DS_Store") and symbolic links are left alone: a
    link could point anywhere on the machine, and following it would copy that file into the archive.
    """
    if not inbox.exists():
        return []
    return sorted(
        (
            p
            for p in inbox.iterdir()
            if not p.is_symlink()
            and p.is_file()
            and not p.name.startswith(".")
            and p.name not in IGNORED_NAMES
        ),
        key=lambda p: p.name,
    )


Fingerprint = tuple[int, int]  # size in bytes, modification time in nanoseconds


def file_fingerprint(path: Path) -> Fingerprint:
    """Size and modification time of a file (raises FileNotFoundError when it is gone)."""
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def recorded_fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, Fingerprint]:
    """The fingerprint of each inbox file name when it was last read (`inbox_fingerprints`)."""
    try:
        # Only fingerprints of content the ledger holds: a fingerprint never hides a file from the ledger.
        rows = con.execute(
            "SELECT p.original_name, p.file_bytes, p.file_mtime_ns FROM inbox_fingerprints AS p "
            "WHERE p.file_hash IN (SELECT file_hash FROM submission_files)"
        ).fetchall()
    except duckdb.CatalogException:  # a warehouse from before fingerprints were kept
        return {}
    return {name: (int(size), int(mtime)) for name, size, mtime in rows}


def unread_candidates(
    paths: Iterable[Path], recorded: dict[str, Fingerprint]
) -> tuple[list[Path], list[str], dict[str, Fingerprint]]:
    """Split listed files into those to read (new or changed since last read, or gone: reading says
    which) and the names unchanged since they were read; with the fingerprint of each file to read."""
    candidates: list[Path] = []
    unchanged: list[str] = []
    prints: dict[str, Fingerprint] = {}
    for path in paths:
        try:
            print_ = file_fingerprint(path)
        except FileNotFoundError:
            candidates.append(path)
            continue
        if recorded.get(path.name) == print_:
            unchanged.append(path.name)
        else:
            candidates.append(path)
            prints[path.name] = print_
    return candidates, unchanged, prints


@dataclass
class StageSummary:
    new_files: list[str] = field(default_factory=list)
    skipped_known: list[str] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)
    vanished: list[str] = field(default_factory=list)  # listed, then gone before they could be read
    rows_staged: int = 0


# Reading files is spread over worker processes when a batch has at least this many files; below it, a
# pool costs more to start than it saves (`instep check` of one file, the inbox sensor's one-file runs).
PARALLEL_MIN_FILES = 16
# Staged rows are inserted in tables of about this many rows as the files are read, so a national or
# global inbox never sits whole in memory.
INSERT_BATCH_ROWS = 500_000


@dataclass
class PreparedFile:
    """One inbox file read, hashed and copied to a partial file in the archive, by a worker or in-process.

    Its rows travel in the Arrow table of its chunk of files (see `prepare_chunk`).
    """

    name: str
    file_hash: str
    known: bool = False
    partial: str | None = None  # name in the archive of the copy waiting to be renamed to `archived`
    archived: str = ""
    format: str = "unknown"
    row_count: int = 0
    ignored_columns: tuple[str, ...] = ()
    error: tuple[str, str] | None = None  # rule, message of a whole-file rejection
    vanished: bool = False  # removed from the inbox between listing and reading: not recorded at all


def prepare_file(
    index: int, path: Path, archive_dir: Path, known: frozenset[str]
) -> tuple[PreparedFile, SubmissionTable | None]:
    """Read one file once: hash its bytes, copy them to a partial file in the archive, read the rows.

    Hash, archived copy and rows all come from the same bytes, so they agree even if the inbox file
    changes meanwhile. The copy is not yet durable (see `publish_archived`). `index` keeps the partial
    names of a batch apart: the same content may arrive twice in one batch.
    """
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            data = None
            file_hash = file_sha256(path)
        else:
            data = path.read_bytes()
            file_hash = hashlib.sha256(data).hexdigest()
    except FileNotFoundError:
        # Moved or deleted by the steward while the batch ran: nothing of it was read, so nothing is
        # recorded, and the file is ingested if it comes back.
        return PreparedFile(path.name, "", vanished=True), None
    prepared = PreparedFile(path.name, file_hash, archived=archive_name(path, file_hash))
    if file_hash in known:
        prepared.known = True
        return prepared, None
    existing = archive_dir / prepared.archived
    # A copy already there (left by a killed run, or the same content earlier) is trusted only if it
    # still has its hash: an altered one is replaced by these bytes, which the name says it holds.
    if not existing.exists() or file_sha256(existing) != file_hash:
        prepared.partial = f".{file_hash}.{index}.partial"
        partial = archive_dir / prepared.partial
        if data is None:
            shutil.copyfile(path, partial)
        else:
            with partial.open("wb") as handle:
                handle.write(data)
        os.chmod(partial, 0o444)
    try:
        table = read_submission_data(path.name, data) if data is not None else read_submission(path)
    except UnreadableFile as error:
        prepared.error = (error.rule, error.message)
        return prepared, None
    prepared.format = table.format
    prepared.ignored_columns = table.ignored_columns
    prepared.row_count = len(table)
    return prepared, table


# The column of a chunk's rows naming the file (its position in the batch) until it gets its file_seq.
_FILE_INDEX = "_file_index"


def prepare_chunk(
    tasks: list[tuple[int, Path]], archive_dir: Path, known: frozenset[str]
) -> tuple[list[PreparedFile], pa.Table]:
    """`prepare_file` for consecutive files, their rows in one Arrow table (`_FILE_INDEX` for file_seq).

    One table per chunk rather than per file: building and sending thousands of small tables costs more
    than reading the files.
    """
    files: list[PreparedFile] = []
    tables: list[tuple[int, PreparedFile, SubmissionTable]] = []
    for index, path in tasks:
        prepared, table = prepare_file(index, path, archive_dir, known)
        files.append(prepared)
        if table is not None:
            tables.append((index, prepared, table))
    try:
        return files, _rows_table(tables)
    except Exception:
        pass
    # Some file's text cannot be held by Arrow although its reader accepted it (a defect of the reader's
    # checks): find the files one by one, so that only they are rejected and the rest of the chunk goes on.
    convertible = []
    for entry in tables:
        try:
            _rows_table([entry])
        except Exception as error:
            rejection = unreadable(
                "unreadable_format.rows_not_stored", error_type=type(error).__name__, error=str(error)[:200]
            )
            entry[1].error = (rejection.rule, rejection.message)
            entry[1].row_count = 0
        else:
            convertible.append(entry)
    return files, _rows_table(convertible)


def _rows_table(tables: list[tuple[int, PreparedFile, SubmissionTable]]) -> pa.Table:
    """The rows of the files read, as one Arrow table with the position of each row's file."""
    index_column: list[int] = []
    submission_ids: list[str] = []
    row_numbers: list[int] = []
    columns: dict[str, list[str | None]] = {name: [] for name in SUBMISSION_COLUMNS}
    extra_cells: list[bool] = []
    for index, prepared, table in tables:
        index_column += [index] * len(table)
        submission_ids += [submission_id_for(prepared.file_hash)] * len(table)
        row_numbers += table.row_numbers
        for name in SUBMISSION_COLUMNS:
            columns[name] += table.columns[name]
        extra_cells += table.extra_cells
    return pa.table(
        {
            _FILE_INDEX: pa.array(index_column, pa.int64()),
            "submission_id": pa.array(submission_ids, pa.string()),
            "row_number": pa.array(row_numbers, pa.int64()),
            **{name: pa.array(values, pa.string()) for name, values in columns.items()},
            "extra_cells": pa.array(extra_cells, pa.bool_()),
        }
    )


def staged_rows_of_chunk(rows: pa.Table, file_seq_of_index: list[int], first_index: int) -> pa.Table:
    """The rows of one chunk as `staged_rows`: each file's position replaced by its file_seq.

    `file_seq_of_index[i]` is the file_seq of the file at position `first_index + i`; a file whose
    position maps to -1 (its content seen before, or unreadable) contributes no rows.
    """
    positions = pc.subtract(rows[_FILE_INDEX], pa.scalar(first_index, pa.int64()))
    file_seq = pc.take(pa.array(file_seq_of_index, pa.int64()), positions)
    rows = rows.set_column(0, "file_seq", file_seq)
    if -1 in file_seq_of_index:
        rows = rows.filter(pc.greater_equal(file_seq, 0))
    return rows.select(list(STAGED_ROWS.field_names)).cast(_STAGED_ROW_FIELDS)


class StagedRowsWriter:
    """Inserts staged rows into `staged_rows` in tables of about `batch_rows` rows, inside the caller's
    transaction: memory holds one batch, not the whole inbox, and DuckDB scans one contiguous table
    faster than thousands of small chunks."""

    def __init__(self, con: duckdb.DuckDBPyConnection, batch_rows: int = INSERT_BATCH_ROWS) -> None:
        self._con = con
        self._batch_rows = batch_rows
        self._waiting: list[pa.Table] = []
        self._waiting_rows = 0

    def add(self, rows: pa.Table) -> None:
        if rows.num_rows == 0:
            return
        self._waiting.append(rows)
        self._waiting_rows += rows.num_rows
        if self._waiting_rows >= self._batch_rows:
            self.flush()

    def flush(self) -> None:
        if not self._waiting:
            return
        batch = pa.concat_tables(self._waiting).combine_chunks()
        self._waiting, self._waiting_rows = [], 0
        self._con.register("_stage_batch", batch)
        try:
            self._con.execute("INSERT INTO staged_rows SELECT * FROM _stage_batch")
        finally:
            self._con.unregister("_stage_batch")


_SUBMISSION_FILE_FIELDS = arrow_schema(SUBMISSION_FILES)
_FINGERPRINT_FIELDS = arrow_schema(INBOX_FINGERPRINTS)


def fingerprints_arrow(read: dict[str, tuple[int, int, str]]) -> pa.Table:
    """Rows of `inbox_fingerprints` (name: size, mtime, hash) as one Arrow table."""
    names = sorted(read)
    columns = [names, *([read[name][i] for name in names] for i in range(3))]
    arrays = [pa.array(values, f.type) for values, f in zip(columns, _FINGERPRINT_FIELDS, strict=True)]
    return pa.table(arrays, schema=_FINGERPRINT_FIELDS)


_STAGED_ROW_FIELDS = arrow_schema(STAGED_ROWS)


def submission_files_arrow(file_rows: list[tuple[object, ...]]) -> pa.Table:
    """Rows of `submission_files` (tuples in its column order) as one Arrow table."""
    columns = zip(*file_rows, strict=True)
    fields = _SUBMISSION_FILE_FIELDS
    arrays = [pa.array(values, field.type) for values, field in zip(columns, fields, strict=True)]
    return pa.table(arrays, schema=fields)


# ---------------------------------------------------------------- worker processes

_worker_state: dict[str, object] = {}


def _worker_start(archive_dir: Path, known: frozenset[str]) -> None:
    """Initialise a worker with what every file needs."""
    _worker_state.update(archive_dir=archive_dir, known=known)


def _worker_prepare(tasks: list[tuple[int, Path]]) -> tuple[list[PreparedFile], pa.Table]:
    archive_dir = _worker_state["archive_dir"]
    known = _worker_state["known"]
    assert isinstance(archive_dir, Path) and isinstance(known, frozenset)
    return prepare_chunk(tasks, archive_dir, known)


def prepare_files(
    paths: list[Path], archive_dir: Path, known: frozenset[str]
) -> Iterator[tuple[list[PreparedFile], pa.Table]]:
    """`prepare_chunk` over the paths in chunks of consecutive files, yielded in the order given; in
    worker processes for a large batch.

    The workers are forked (they start at once, with the modules loaded); where fork is not available the
    files are read in this process.
    """
    tasks = list(enumerate(paths))
    workers = min(os.cpu_count() or 1, len(paths))
    if len(paths) < PARALLEL_MIN_FILES or workers < 2 or not can_fork():
        yield prepare_chunk(tasks, archive_dir, known)
        return
    # Chunks amortise the messages between processes; small enough to keep the workers evenly busy.
    size = max(1, min(64, len(paths) // (workers * 8)))
    chunks = [tasks[start : start + size] for start in range(0, len(tasks), size)]
    pool = forked_pool(workers, _worker_start, (archive_dir, known))
    try:
        yield from pool.map(_worker_prepare, chunks)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def stage_new_files(
    con: duckdb.DuckDBPyConnection, inbox: Path, archive_dir: Path, files: Iterable[Path] | None = None
) -> StageSummary:
    """Archive and stage the files not seen before (by content hash), in one transaction.

    Files get their `file_seq` in the order given (by name for the inbox), whichever worker read them.
    Their rows are inserted as the chunks of files arrive, inside the transaction; the archive copies
    are made durable before it commits, so a committed file always has its archived copy.
    """
    summary = StageSummary()
    listed = list(files if files is not None else inbox_files(inbox))
    paths, summary.skipped_known, prints = unread_candidates(listed, recorded_fingerprints(con))
    if not paths:
        return summary
    known = {row[0] for row in con.execute("SELECT file_hash FROM submission_files").fetchall()}
    next_seq = con.execute("SELECT coalesce(max(file_seq), 0) + 1 FROM submission_files").fetchall()[0][0]
    archive_ready(archive_dir)
    file_rows: list[tuple[object, ...]] = []
    read: dict[str, tuple[int, int, str]] = {}  # name: size, mtime, hash of every file read
    moves: list[tuple[str, str]] = []
    writer = StagedRowsWriter(con)
    first_index = 0
    con.execute("BEGIN TRANSACTION")
    try:
        for prepared_files, rows in prepare_files(paths, archive_dir, frozenset(known)):
            file_seq_of_index = [-1] * len(prepared_files)
            for offset, prepared in enumerate(prepared_files):
                if prepared.vanished:
                    summary.vanished.append(prepared.name)
                    continue
                if prepared.name in prints:
                    read[prepared.name] = (*prints[prepared.name], prepared.file_hash)
                if prepared.known or prepared.file_hash in known:
                    summary.skipped_known.append(prepared.name)
                    if prepared.partial:  # the same content earlier in this batch
                        (archive_dir / prepared.partial).unlink(missing_ok=True)
                    continue
                known.add(prepared.file_hash)
                if prepared.partial:
                    moves.append((prepared.partial, prepared.archived))
                if prepared.error is None:
                    file_seq_of_index[offset] = next_seq
                    summary.rows_staged += prepared.row_count
                else:
                    summary.unreadable[prepared.name] = "{}: {}".format(*prepared.error)
                file_rows.append(_submission_file_row(prepared, next_seq))
                summary.new_files.append(prepared.name)
                next_seq += 1
            writer.add(staged_rows_of_chunk(rows, file_seq_of_index, first_index))
            first_index += len(prepared_files)
        writer.flush()
        publish_archived(archive_dir, moves)
        if file_rows:
            # Through Arrow, not executemany: one statement per file costs about a millisecond each.
            con.register("_stage_files", submission_files_arrow(file_rows))
            con.execute("INSERT INTO submission_files SELECT * FROM _stage_files")
            con.unregister("_stage_files")
        if read:
            con.register("_stage_prints", fingerprints_arrow(read))
            con.execute("INSERT OR REPLACE INTO inbox_fingerprints SELECT * FROM _stage_prints")
            con.unregister("_stage_prints")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return summary


def _submission_file_row(prepared: PreparedFile, file_seq: int) -> tuple[object, ...]:
    """The `submission_files` row of a new file: ingested, or unreadable with its rule and message."""
    submission_id = submission_id_for(prepared.file_hash)
    if prepared.error is not None:
        rule, message = prepared.error
        return (
            submission_id,
            prepared.file_hash,
            prepared.name,
            prepared.archived,
            "unknown",
            file_seq,
            "unreadable",
            rule,
            message,
            0,
            None,
        )
    return (
        submission_id,
        prepared.file_hash,
        prepared.name,
        prepared.archived,
        prepared.format,
        file_seq,
        "ingested",
        None,
        None,
        prepared.row_count,
        ", ".join(prepared.ignored_columns) or None,
    )


def recorded_file_totals(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Files recorded in `submission_files` and the rows read from them, all runs together."""
    files, rows_read = con.execute(
        "SELECT count(*), coalesce(sum(rows_read), 0) FROM submission_files"
    ).fetchall()[0]
    return int(files), int(rows_read)
