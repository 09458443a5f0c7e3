"""The steward's review queue: `reports/index.md` and `reports/index.html`, written with the reports.

Every submission, newest first, with its facility, park, original file name, the day it was received,
its rows by state and a link to its report; the submissions that need attention (a rejected row, or
the file unreadable) come first, so the steward knows which factories to write back to.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from instep.files import write_text_atomically
from instep.readers import display_name
from instep.report import ReportSummary, html_page, markdown_text

INDEX_MARKDOWN = "index.md"
INDEX_HTML = "index.html"
UNKNOWN = "–"
HEADER = ("received", "facility", "park", "file", "accepted", "rejected", "superseded", "report")


@dataclass(frozen=True)
class RowCounts:
    """A submission's place in the ledger and its rows by state."""

    file_seq: int
    accepted: int
    rejected: int
    superseded: int


@dataclass(frozen=True)
class QueueEntry:
    report: ReportSummary
    rows: RowCounts
    received: date | None  # the day ingest archived the file; None if its archived copy is missing
    park_ids: tuple[str, ...]

    @property
    def needs_attention(self) -> bool:
        return self.report.unreadable or self.rows.rejected > 0


def queue_entries(
    con: duckdb.DuckDBPyConnection,
    reports: Sequence[ReportSummary],
    received: Mapping[str, date | None],
    rows: Mapping[str, RowCounts],
) -> list[QueueEntry]:
    """The queue in its order: needs attention first, newest (last ingested) first in each group.

    `received` gives each submission's day of receipt (see `received_on`), `rows` its place and row
    counts.
    """
    park_of = dict(con.execute("SELECT facility_id, park_id FROM facilities").fetchall())
    entries = []
    for report in reports:
        parks = dict.fromkeys(park_of[f] for f in report.facility_ids if f in park_of)
        entries.append(
            QueueEntry(report, rows[report.submission_id], received.get(report.submission_id), tuple(parks))
        )
    return sorted(entries, key=lambda e: (not e.needs_attention, -e.rows.file_seq))


def received_on(archived: Path) -> date | None:
    """The day ingest archived a file: its archived copy is written once, when ingest first reads the
    file, and never modified. None when the copy is missing."""
    try:
        return datetime.fromtimestamp(archived.stat().st_mtime, UTC).date()
    except OSError:
        return None


def _several(values: Sequence[str]) -> str:
    if not values:
        return UNKNOWN
    return values[0] if len(values) == 1 else f"{values[0]} and {len(values) - 1} more"


def _cells(entry: QueueEntry, escape: Callable[[str], str]) -> list[str]:
    """The row's cells, report link left out; `escape` makes the submitted text (ids and file name)
    literal in the caller's format. The other cells are dates, counts and fixed words."""
    return [
        entry.received.isoformat() if entry.received else UNKNOWN,
        escape(_several(entry.report.facility_ids)),
        escape(_several(entry.park_ids)),
        escape(entry.report.file_name),
        "–" if entry.report.unreadable else str(entry.rows.accepted),
        "file unreadable" if entry.report.unreadable else str(entry.rows.rejected),
        "–" if entry.report.unreadable else str(entry.rows.superseded),
    ]


def _html_text(text: str) -> str:
    return html.escape(display_name(text))


def _groups(entries: Sequence[QueueEntry]) -> list[tuple[str, str, list[QueueEntry]]]:
    attention = [e for e in entries if e.needs_attention]
    rest = [e for e in entries if not e.needs_attention]
    return [
        (
            "Needs attention",
            "Rows rejected or the file unreadable: send the report back to the factory.",
            attention,
        ),
        ("No rows rejected", "Every row accepted (or superseded by a later restatement).", rest),
    ]


def _summary(entries: Sequence[QueueEntry]) -> str:
    attention = sum(e.needs_attention for e in entries)
    return (
        f"{len(entries):,} submissions, newest first; {attention:,} need attention. "
        "Received: the day the file was ingested (archived)."
    )


def render_queue_markdown(entries: Sequence[QueueEntry]) -> str:
    lines = ["# Review queue", "", _summary(entries)]
    for title, note, group in _groups(entries):
        lines += ["", f"## {title} ({len(group):,})", "", note, ""]
        if not group:
            lines.append("None.")
            continue
        lines += ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        for entry in group:
            cells = _cells(entry, markdown_text)
            lines.append("| " + " | ".join([*cells, f"[report]({entry.report.report_name})"]) + " |")
    return "\n".join(lines) + "\n"


def render_queue_html(entries: Sequence[QueueEntry]) -> str:
    parts = [f"<p>{html.escape(_summary(entries))}</p>"]
    for title, note, group in _groups(entries):
        parts += [f"<h2>{html.escape(title)} ({len(group):,})</h2>", f"<p>{html.escape(note)}</p>"]
        if not group:
            parts.append("<p>None.</p>")
            continue
        parts.append("<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in HEADER) + "</tr></thead><tbody>")
        for entry in group:
            cells = "".join(f"<td>{cell}</td>" for cell in _cells(entry, _html_text))
            link = f'<td><a href="{html.escape(entry.report.report_name)}">report</a></td>'
            parts.append(f"<tr>{cells}{link}</tr>")
        parts.append("</tbody></table>")
    return html_page("Review queue", "\n".join(parts) + "\n")


def write_review_queue(
    con: duckdb.DuckDBPyConnection,
    reports: Sequence[ReportSummary],
    received: Mapping[str, date | None],
    rows: Mapping[str, RowCounts],
    reports_dir: Path,
) -> Path:
    """Write `index.md` and `index.html` into `reports_dir` (beside the reports); return index.md's path."""
    entries = queue_entries(con, reports, received, rows)
    reports_dir.mkdir(parents=True, exist_ok=True)
    for name, text in (
        (INDEX_MARKDOWN, render_queue_markdown(entries)),
        (INDEX_HTML, render_queue_html(entries)),
    ):
        write_text_atomically(reports_dir / name, text)
    return reports_dir / INDEX_MARKDOWN
