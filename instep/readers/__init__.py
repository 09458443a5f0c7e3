"""Reading submission files (CSV, XLSX, JSON) into rows of submitted text.

`core` holds what every format shares (columns, limits, header rules, format sniffing, `UnreadableFile`);
`csv`, `json` and `xlsx` read one format each; this module picks the reader by the file's content.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePath

from expectations.limits import MAX_CELL_CHARS
from instep.readers.core import (
    MAX_FILE_BYTES,
    REQUIRED_COLUMNS,
    SUBMISSION_COLUMNS,
    SubmissionTable,
    UnreadableFile,
    check_cell_text,
    check_size,
    detect_format,
    display_name,
    unreadable,
)
from instep.readers.csv import read_csv
from instep.readers.json import read_json
from instep.readers.xlsx import read_xlsx

__all__ = [
    "MAX_CELL_CHARS",
    "MAX_FILE_BYTES",
    "REQUIRED_COLUMNS",
    "SUBMISSION_COLUMNS",
    "SubmissionTable",
    "UnreadableFile",
    "display_name",
    "read_by_format",
    "read_data_by_format",
    "read_submission",
    "read_submission_data",
]

_READERS: dict[str, Callable[[bytes], SubmissionTable]] = {
    "csv": read_csv,
    "json": read_json,
    "xlsx": read_xlsx,
}


def read_submission(path: Path) -> SubmissionTable:
    """Read one submission file; raise `UnreadableFile` if it cannot be read as a submission.

    Any other error from a reader is a defect in this code, but it must not stop the rest of the inbox:
    it becomes an `UnreadableFile` naming the error, so the steward sees it in the file's report.
    """
    return _with_safety_net(read_by_format, path)


def read_submission_data(name: str, data: bytes) -> SubmissionTable:
    """`read_submission` of a file whose content (`data`) was read already; `name` gives its suffix."""
    return _with_safety_net(read_data_by_format, name, data)


def _with_safety_net(read: Callable[..., SubmissionTable], *args: object) -> SubmissionTable:
    try:
        return read(*args)
    except UnreadableFile:
        raise
    except Exception as error:  # the safety net described above; the fuzz tests call read_by_format
        raise unreadable(
            "unreadable_format.reader_defect", error_type=type(error).__name__, error=str(error)[:200]
        ) from error


def read_by_format(path: Path) -> SubmissionTable:
    """Read one file by its detected format; errors other than `UnreadableFile` are defects."""
    check_size(path.stat().st_size)
    return read_data_by_format(path.name, path.read_bytes())


def read_data_by_format(name: str, data: bytes) -> SubmissionTable:
    """Read one file's content by its detected format; errors other than `UnreadableFile` are defects."""
    check_size(len(data))
    kind = detect_format(PurePath(name), data[:8192], data)
    if kind in _READERS:
        table = _READERS[kind](data)
        check_cell_text(table)
        return table
    if kind == "ole2":
        raise unreadable("encrypted_workbook.ole2")
    if kind == "wide_text":
        raise unreadable("encoding.wide_text")
    if kind == "zip":
        raise unreadable("unreadable_format.zip_not_xlsx", name=display_name(name))
    if kind == "binary":
        raise unreadable("unreadable_format.binary", name=display_name(name))
    raise unreadable("unreadable_format.unknown_format", name=display_name(name))
