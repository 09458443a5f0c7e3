"""What a run leaves for the steward to review: the rows it rejected, by file, and their reports.

The batch is the submissions waiting in `staged_rows` before they are settled; after settling, the rows
rejected among them are the review. Reports are found by the submission id in their file name, whatever
the rest of the name says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class Review:
    rows_rejected: int
    submissions: tuple[str, ...]  # the batch's submissions with rejected rows, in ingest order

    @property
    def needed(self) -> bool:
        return self.rows_rejected > 0

    def headline(self) -> str:
        files = len(self.submissions)
        return (
            f"{self.rows_rejected:,} {'row' if self.rows_rejected == 1 else 'rows'} rejected in "
            f"{files:,} {'file' if files == 1 else 'files'}: review"
        )


def staged_submissions(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The submissions whose rows wait to be settled: the batch of the next settling."""
    return [
        row[0] for row in con.execute("SELECT DISTINCT submission_id FROM staged_rows ORDER BY 1").fetchall()
    ]


def review_of(con: duckdb.DuckDBPyConnection, batch: Sequence[str]) -> Review:
    """The rejected rows of the batch's submissions, as settled in the ledger."""
    rejected = con.execute(
        """
        SELECT r.submission_id, count(*) FROM submission_rows AS r
        JOIN submission_files AS f USING (submission_id)
        WHERE r.state = 'rejected' AND r.submission_id IN (SELECT unnest(?))
        GROUP BY r.submission_id, f.file_seq ORDER BY f.file_seq
        """,
        [list(batch)],
    ).fetchall()
    return Review(
        rows_rejected=sum(count for _, count in rejected),
        submissions=tuple(submission_id for submission_id, _ in rejected),
    )


def report_paths(reports_dir: Path, submission_ids: Sequence[str]) -> list[Path]:
    """Each submission's report (`*<submission_id>*.md`), in the order given; missing ones left out."""
    if not reports_dir.is_dir():
        return []
    reports = sorted(path for path in reports_dir.iterdir() if path.suffix == ".md")
    return [path for submission_id in submission_ids for path in reports if submission_id in path.name]
