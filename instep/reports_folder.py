"""The workspace's `reports/` kept in step with the ledger: a report per submission and the review queue.

A report says its submission's verdict, which changes only when the submission's rows are settled again
(a new file, a steward's confirmation, a rebuild). A fingerprint of everything a verdict is read from,
computed per submission in DuckDB, tells which verdicts changed since the folder was last written; only
those are read, rendered and written. After the first run a new file costs its own report and the queue,
not one render per submission ever received. `.written.json` records, per submission, the fingerprint
and what the queue shows of its report; a change of the renderer (its code or the rules' wording)
writes every report again once.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path, PurePath
from typing import Any

import duckdb

from expectations import RULES_FILE
from expectations.messages import MESSAGES_FILE
from instep import report
from instep.files import write_text_atomically
from instep.readers import core as reader_core
from instep.report import ReportSummary, verdicts_from_warehouse, write_reports
from instep.review_queue import RowCounts, received_on, write_review_queue

FOLDER_STATE = ".written.json"

# What the wording of a report depends on besides its verdict.
_RENDERER_SOURCES = (Path(report.__file__), Path(reader_core.__file__), RULES_FILE, MESSAGES_FILE)

# One number per submission that changes whenever anything `verdicts_from_warehouse` reads of it does:
# the file's ledger row, whether each row was rejected, its facility and period, each issue (a row
# accepted then superseded by a restatement leaves its report as it was). Order-independent sums of row
# hashes, so the query is one pass over each ledger table.
FINGERPRINTS_SQL = """
WITH row_states AS (
    SELECT submission_id, bit_xor(hash(row_number, state = 'rejected', facility_id, period)) AS rows_hash,
           count(*) FILTER (WHERE state = 'accepted') AS accepted,
           count(*) FILTER (WHERE state = 'rejected') AS rejected,
           count(*) FILTER (WHERE state = 'superseded') AS superseded
    FROM submission_rows GROUP BY submission_id
), issues AS (
    SELECT submission_id,
           bit_xor(hash(row_number, "column", rule, value, expected, message)) AS issues_hash
    FROM row_issues GROUP BY submission_id
)
SELECT f.submission_id, f.archived_path,
       hash(f.original_name, f.rows_read, f.rule, f.message, f.ignored_columns, f.file_seq,
            coalesce(r.rows_hash, 0), coalesce(i.issues_hash, 0)) AS fingerprint,
       f.file_seq, coalesce(r.accepted, 0), coalesce(r.rejected, 0), coalesce(r.superseded, 0)
FROM submission_files AS f
LEFT JOIN row_states AS r USING (submission_id)
LEFT JOIN issues AS i USING (submission_id)
ORDER BY f.file_seq
"""


@dataclass(frozen=True)
class ReportsUpdate:
    reports: list[ReportSummary]  # every submission's report, in ingest order
    written: list[ReportSummary]  # the reports rendered and written by this update
    queue: Path  # reports/index.md (index.html beside it)


@dataclass(frozen=True)
class _Written:
    fingerprint: int
    report: ReportSummary
    received: date | None


def renderer_fingerprint() -> str:
    digest = hashlib.sha256()
    for source in _RENDERER_SOURCES:
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _load_state(path: Path, renderer: str) -> tuple[dict[str, _Written], set[str]]:
    """What this renderer wrote before, by submission, and every report name written before by any."""
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}, set()
    if not isinstance(recorded, dict):
        return {}, set()
    submissions = recorded.get("submissions")
    if not isinstance(submissions, dict):  # the layout of earlier versions: report name -> text digest
        return {}, {name for name in recorded if isinstance(name, str)}
    written: dict[str, _Written] = {}
    try:
        for sid, (fingerprint, summary, received) in submissions.items():
            facility_ids = tuple(summary[2])
            written[sid] = _Written(
                int(fingerprint),
                ReportSummary(summary[0], summary[1], facility_ids, *summary[3:]),
                date.fromisoformat(received) if received else None,
            )
    except (TypeError, ValueError):  # a damaged record: write every report again
        return {}, set()
    names = {w.report.report_name for w in written.values()}
    return (written if recorded.get("renderer") == renderer else {}), names


# The summary's fields in order: its record is a plain list of them (`dataclasses.astuple` deep-copies
# every value, seconds for a programme's tens of thousands of submissions).
_SUMMARY_FIELDS = tuple(f.name for f in fields(ReportSummary))


def _save_state(path: Path, renderer: str, written: dict[str, _Written]) -> None:
    record: dict[str, Any] = {
        "renderer": renderer,
        "submissions": {
            sid: [
                w.fingerprint,
                [getattr(w.report, name) for name in _SUMMARY_FIELDS],
                w.received.isoformat() if w.received else None,
            ]
            for sid, w in written.items()
        },
    }
    write_text_atomically(path, json.dumps(record))


def _remove_stale(reports_dir: Path, names: set[str]) -> None:
    for stale in names:
        # only a plain name a report could have: the state file is not trusted to point elsewhere
        if PurePath(stale).name == stale and stale.endswith(".md") and not stale.startswith("."):
            (reports_dir / stale).unlink(missing_ok=True)


def update_reports(con: duckdb.DuckDBPyConnection, reports_dir: Path, archive_dir: Path) -> ReportsUpdate:
    """Write the report of every submission whose verdict changed (or whose report is gone), remove
    reports no submission has any more, and write the review queue."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    state_path = reports_dir / FOLDER_STATE
    renderer = renderer_fingerprint()
    before, names_before = _load_state(state_path, renderer)
    present = set(os.listdir(reports_dir))
    # The fingerprints, with each submission's place and row counts for the queue (one scan of the rows;
    # the counts are not in the fingerprint: a restatement elsewhere changes them, not the report).
    current = con.execute(FINGERPRINTS_SQL).fetchall()
    by_id = {row[0]: row[:3] for row in current}
    changed = [
        sid
        for sid, _archived, fingerprint, *_ in current
        if sid not in before
        or before[sid].fingerprint != fingerprint
        or before[sid].report.report_name not in present
    ]
    verdicts = verdicts_from_warehouse(con, changed)
    write_reports(verdicts, reports_dir)
    written_now = [ReportSummary.of(verdict) for verdict in verdicts]
    fresh: dict[str, _Written] = {}
    for summary in written_now:
        sid, archived, fingerprint = by_id[summary.submission_id]
        # the archived copy never changes: its day of receipt is read once per submission
        received = before[sid].received if sid in before else received_on(archive_dir / archived)
        fresh[sid] = _Written(fingerprint, summary, received)
    ordered = {sid: fresh.get(sid) or before[sid] for sid, *_ in current}
    _remove_stale(reports_dir, names_before - {w.report.report_name for w in ordered.values()})
    _save_state(state_path, renderer, ordered)
    summaries = [w.report for w in ordered.values()]
    rows = {sid: RowCounts(*counts) for sid, _archived, _fingerprint, *counts in current}
    received_days = {sid: w.received for sid, w in ordered.items()}
    queue = write_review_queue(con, summaries, received_days, rows, reports_dir)
    return ReportsUpdate(summaries, written_now, queue)
