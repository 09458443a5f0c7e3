"""Ingest: inbox files read, archived by content hash and staged in the warehouse ledger (nothing judged).

`staging` reads and stages the files of a batch, `archive` keeps their raw bytes. The next stage,
`instep.validate`, judges the staged rows and settles each in exactly one state.
"""

from instep.ingest.archive import ArchiveProblem, archive_problems, file_sha256
from instep.ingest.staging import (
    StageSummary,
    file_fingerprint,
    inbox_files,
    recorded_file_totals,
    recorded_fingerprints,
    stage_new_files,
    submission_id_for,
)

__all__ = [
    "ArchiveProblem",
    "StageSummary",
    "archive_problems",
    "file_fingerprint",
    "file_sha256",
    "inbox_files",
    "recorded_file_totals",
    "recorded_fingerprints",
    "stage_new_files",
    "submission_id_for",
]
