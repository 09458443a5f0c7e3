"""Ingestion: inbox files into the warehouse ledger, then every row settled in exactly one state.

Two steps, each one transaction:
1. `stage_new_files` archives each new file by content hash, records it in `submission_files` and puts
   its rows in `staged_rows`. A file whose content was seen before is skipped: re-ingesting is a no-op.
2. `settle_staged_rows` validates the staged rows, records every failed rule in `row_issues`, moves each
   row into `submission_rows` as accepted or rejected, lets a later accepted row supersede an earlier one
   with the same key, and keeps `observations` equal to the accepted rows in canonical units.
A crash in either step rolls back that step; the archive is content-addressed, so writing a file there
again is harmless.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from instep.confirmations import restage_confirmed_rows
from instep.metadata.ledger import STAGED_ROWS, SUBMISSION_FILES
from instep.metadata.model import arrow_schema
from instep.readers import (
    MAX_FILE_BYTES,
    SUBMISSION_COLUMNS,
    SubmissionTable,
    UnreadableFile,
    read_submission,
    read_submission_data,
)
from instep.validation import SuiteRunner, describe_issues, validate_staged
from instep.workers import can_fork, forked_pool

SUBMISSION_ID_HEX = 16
IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
# Concurrent fsync calls: the file system commits them together instead of one journal commit each.
FSYNC_THREADS = 16
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


def archive_name(source: Path, file_hash: str) -> str:
    suffix = "".join(c for c in source.suffix.lower() if c.isalnum() or c == ".")[:8]
    return f"{file_hash}{suffix}"


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
            entry[1].error = (
                "unreadable_format",
                f"the rows of the file could not be stored ({type(error).__name__}: {str(error)[:200]}); "
                "please report this file to the data steward",
            )
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


# ---------------------------------------------------------------- durability of the archive


def _fsync_path(path: Path, flags: int = os.O_RDONLY) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_archived(archive_dir: Path, moves: list[tuple[str, str]]) -> None:
    """Make the batch's archived copies durable under their final names, before the ledger commits.

    1. fsync every partial copy, concurrently: its bytes are on disk before any name points at them, so
       a file under its final name is always whole, also after a power cut (that is what lets a later run
       trust an archived file that exists already). Batched, the file system commits many fsyncs in one
       journal commit, instead of one commit per file interleaved with the copying.
    2. rename each partial copy to its final name (atomic; an existing copy with the same content wins,
       one whose content no longer matches its name is replaced).
    3. fsync the archive directory once: the renames are durable. Only then does the caller commit the
       ledger, so a committed ledger never names a file the archive could lose.
    A crash anywhere before the commit leaves partial copies (removed by the next run) and perhaps
    renamed copies the ledger does not name yet; the next run stages the same files again and finds them.
    """
    if moves:
        with ThreadPoolExecutor(max_workers=min(FSYNC_THREADS, len(moves))) as threads:
            list(threads.map(_fsync_path, [archive_dir / partial for partial, _ in moves]))
        for partial, final in moves:
            target = archive_dir / final
            if target.exists() and file_sha256(target) == final[:64]:
                (archive_dir / partial).unlink()
            else:  # absent, or altered on disk: the fsynced copy with the right content takes the name
                (archive_dir / partial).replace(target)
    _fsync_path(archive_dir)


def _archive_ready(archive_dir: Path) -> None:
    """Create the archive directory (durably) and remove partial copies left by a killed run.

    Staging runs alone on its ledger (the warehouse has a single writer), so any partial copy found here
    belongs to a run that did not finish.
    """
    if not archive_dir.exists():
        archive_dir.mkdir(parents=True, exist_ok=True)
        _fsync_path(archive_dir.parent)
    for stale in archive_dir.glob(".*.partial"):
        stale.unlink(missing_ok=True)


def stage_new_files(
    con: duckdb.DuckDBPyConnection, inbox: Path, archive_dir: Path, files: Iterable[Path] | None = None
) -> StageSummary:
    """Archive and stage the files not seen before (by content hash), in one transaction.

    Files get their `file_seq` in the order given (by name for the inbox), whichever worker read them.
    Their rows are inserted as the chunks of files arrive, inside the transaction; the archive copies
    are made durable before it commits, so a committed file always has its archived copy.
    """
    summary = StageSummary()
    known = {row[0] for row in con.execute("SELECT file_hash FROM submission_files").fetchall()}
    next_seq = con.execute("SELECT coalesce(max(file_seq), 0) + 1 FROM submission_files").fetchall()[0][0]
    paths = list(files if files is not None else inbox_files(inbox))
    if not paths:
        return summary
    _archive_ready(archive_dir)
    file_rows: list[tuple[object, ...]] = []
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


@dataclass(frozen=True)
class SettleSummary:
    rows: int
    accepted: int
    rejected: int
    superseded: int
    issues: int


# Accepted rows of this batch with their key and canonical value; `winner` marks the latest per key.
NEW_ACCEPTED_SQL = """
CREATE OR REPLACE TEMP TABLE _new_accepted AS
SELECT
    p.submission_id, p.file_seq, p.row_number, p.facility_id, f.park_id, p.period,
    make_date(p.period_index // 12, p.period_index % 12 + 1, 1) AS period_start,
    p.period_index // 12 AS year,
    p.metric, p.topic, p.value_canonical AS value, p.canonical_unit AS unit, p.censored,
    p.value AS submitted_value, p.unit AS submitted_unit, p.sample_point,
    try_strptime(p.sample_date, '%Y-%m-%d')::DATE AS sample_date,
    p.sample_point_key, p.sample_date_key,
    row_number() OVER latest = 1 AS winner,
    first_value(p.submission_id) OVER latest AS winner_submission
FROM _v_prepared AS p
JOIN facilities AS f USING (facility_id)
WHERE NOT EXISTS (
    SELECT 1 FROM _rejected AS r WHERE r.submission_id = p.submission_id AND r.row_number = p.row_number
)
WINDOW latest AS (
    PARTITION BY p.facility_id, p.period, p.metric, p.sample_point_key, p.sample_date_key
    ORDER BY p.file_seq DESC
)
"""


# Staged rows are settled in chunks of whole files of at most this many rows (a larger file is a chunk
# of its own), so memory stays bounded whatever the size of the inbox: the prepared rows of one chunk are
# what the submission suite holds in memory at a time.
SETTLE_CHUNK_ROWS = 1_000_000


def file_chunks(rows_per_file: list[tuple[int, int]], max_rows: int) -> list[tuple[int, int]]:
    """(first file_seq, last file_seq) ranges of consecutive files with at most `max_rows` rows each."""
    chunks: list[list[int]] = []
    total = 0
    for seq, rows in rows_per_file:
        if chunks and total + rows <= max_rows:
            chunks[-1][1] = seq
            total += rows
        else:
            chunks.append([seq, seq])
            total = rows
    return [(first, last) for first, last in chunks]


def settle_staged_rows(
    con: duckdb.DuckDBPyConnection, as_of: date, chunk_rows: int = SETTLE_CHUNK_ROWS
) -> SettleSummary:
    """Validate staged rows and settle each in exactly one state.

    Files are settled in ingest order, in chunks of whole files (see SETTLE_CHUNK_ROWS), each chunk one
    transaction: the outcome is that of settling the files one run after another, as the inbox sensor
    does. A later chunk's restatement supersedes the accepted row of an earlier chunk, and that row names
    the submission that restated it.
    """
    restage_confirmed_rows(con)
    rows_per_file = con.execute(
        "SELECT file_seq, count(*) FROM staged_rows GROUP BY file_seq ORDER BY file_seq"
    ).fetchall()
    totals = [0, 0, 0, 0, 0]
    since = rows_per_file[0][0] if rows_per_file else 0
    with SuiteRunner() as runner:
        for first, last in file_chunks(rows_per_file, chunk_rows):
            *chunk, restated_in_batch = _settle_chunk(con, as_of, int(first), int(last), int(since), runner)
            totals = [a + b for a, b in zip(totals, chunk, strict=True)]
            # A row accepted by an earlier chunk and restated by this one counts once, as superseded.
            totals[1] -= restated_in_batch
    con.execute("DROP VIEW IF EXISTS _settle_chunk")
    return SettleSummary(*totals)


def _settle_chunk(
    con: duckdb.DuckDBPyConnection, as_of: date, first: int, last: int, since: int, runner: SuiteRunner
) -> tuple[int, ...]:
    """Validate and settle the staged rows of files `first`..`last` (file_seq), in one transaction.

    Returns rows, accepted, rejected, superseded, issues, and how many of the restated rows belong to
    files from `since` on (settled by an earlier chunk of the same batch).
    """
    staged_table = "_settle_chunk"
    in_chunk = f"file_seq BETWEEN {first} AND {last}"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {staged_table} AS SELECT * FROM staged_rows WHERE {in_chunk}")
    staged = con.execute(f"SELECT count(*) FROM {staged_table}").fetchall()[0][0]
    if staged == 0:
        return (0, 0, 0, 0, 0, 0)
    outcome = validate_staged(con, staged_table, as_of, runner)
    detailed = describe_issues(con, outcome.issues)
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("_issue_details", detailed)
        con.execute(
            'INSERT INTO row_issues SELECT submission_id, row_number, "column", rule, value, expected, '
            "message FROM _issue_details"
        )
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _rejected AS
            SELECT submission_id, row_number, arg_min(rule, rule_order) AS rule,
                   arg_min(message, rule_order) AS message
            FROM _issue_details GROUP BY submission_id, row_number
            """
        )
        con.unregister("_issue_details")
        con.execute(NEW_ACCEPTED_SQL)
        # Earlier accepted rows restated by this batch's winners become superseded.
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _restated AS
            SELECT o.submission_id, o.row_number, w.submission_id AS superseded_by
            FROM observations AS o
            JOIN _new_accepted AS w
              ON w.winner AND o.facility_id = w.facility_id AND o.period = w.period AND o.metric = w.metric
             AND coalesce(o.sample_point, '') = w.sample_point_key
             AND coalesce(strftime(o.sample_date, '%Y-%m-%d'), '') = w.sample_date_key
            """
        )
        con.execute(
            """
            UPDATE submission_rows AS s SET state = 'superseded', superseded_by = r.superseded_by
            FROM _restated AS r WHERE s.submission_id = r.submission_id AND s.row_number = r.row_number
            """
        )
        con.execute(
            """
            DELETE FROM observations AS o USING _restated AS r
            WHERE o.submission_id = r.submission_id AND o.row_number = r.row_number
            """
        )
        con.execute(
            f"""
            INSERT INTO submission_rows
            SELECT s.submission_id, s.file_seq, s.row_number, s.facility_id, s.period, s.metric, s.value,
                   s.unit, s.sample_point, s.sample_date, s.comment,
                   CASE WHEN r.rule IS NOT NULL THEN 'rejected'
                        WHEN a.winner THEN 'accepted' ELSE 'superseded' END,
                   r.rule, r.message,
                   CASE WHEN r.rule IS NULL AND NOT a.winner THEN a.winner_submission END
            FROM {staged_table} AS s
            LEFT JOIN _rejected AS r USING (submission_id, row_number)
            LEFT JOIN _new_accepted AS a USING (submission_id, row_number)
            """
        )
        con.execute(
            """
            INSERT INTO observations
            SELECT submission_id, row_number, facility_id, park_id, period, period_start, year, metric, topic,
                   value, unit, censored, submitted_value, submitted_unit, sample_point, sample_date
            FROM _new_accepted WHERE winner
            """
        )
        con.execute(f"DELETE FROM staged_rows WHERE {in_chunk}")
        counts = con.execute(
            """
            SELECT count(*) FILTER (WHERE r.rule IS NULL AND a.winner),
                   count(*) FILTER (WHERE r.rule IS NOT NULL),
                   count(*) FILTER (WHERE r.rule IS NULL AND NOT a.winner)
            FROM _v_prepared AS p
            LEFT JOIN _rejected AS r USING (submission_id, row_number)
            LEFT JOIN _new_accepted AS a USING (submission_id, row_number)
            """
        ).fetchall()[0]
        restated, restated_in_batch = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE f.file_seq >= ?) FROM _restated "
            "JOIN submission_files AS f USING (submission_id)",
            [since],
        ).fetchall()[0]
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return (staged, counts[0], counts[1], counts[2] + restated, len(detailed), restated_in_batch)


@dataclass(frozen=True)
class ArchiveProblem:
    submission_id: str
    original_name: str
    archived_path: str
    problem: str


def archive_problems(
    con: duckdb.DuckDBPyConnection, archive_dir: Path, *, verify_hashes: bool
) -> list[ArchiveProblem]:
    """Recorded files whose archived copy is missing or (with `verify_hashes`) no longer has its hash.

    The archive is the evidence behind every row of the ledger; a copy lost or changed on disk must be
    reported, never found out at an audit. Without `verify_hashes` only the presence of each copy is
    checked (one `stat` per file, as every run does); `instep doctor` reads and hashes every copy.
    """
    problems = []
    for submission_id, name, archived, file_hash in con.execute(
        "SELECT submission_id, original_name, archived_path, file_hash FROM submission_files "
        "ORDER BY file_seq"
    ).fetchall():
        path = archive_dir / archived
        if not path.is_file():
            problems.append(ArchiveProblem(submission_id, name, archived, "the archived copy is missing"))
        elif verify_hashes and (found := file_sha256(path)) != file_hash:
            problems.append(
                ArchiveProblem(
                    submission_id,
                    name,
                    archived,
                    f"the archived copy was altered: its SHA-256 is {found}, recorded {file_hash}",
                )
            )
    return problems


def row_state_counts(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """Per file: rows read and rows in each state; the states always add up to rows read."""
    return con.sql(
        """
        SELECT f.submission_id, f.original_name, f.status, f.rows_read,
               count(r.row_number) FILTER (WHERE r.state = 'accepted') AS accepted,
               count(r.row_number) FILTER (WHERE r.state = 'rejected') AS rejected,
               count(r.row_number) FILTER (WHERE r.state = 'superseded') AS superseded
        FROM submission_files AS f
        LEFT JOIN submission_rows AS r USING (submission_id)
        GROUP BY f.submission_id, f.original_name, f.status, f.rows_read, f.file_seq ORDER BY f.file_seq
        """
    )
