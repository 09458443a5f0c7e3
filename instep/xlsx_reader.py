"""Reading the template workbook: the `submission` sheet, header in row 1.

A workbook is a zip archive; its declared sizes are checked before anything is decompressed, so a zip
bomb is refused without expanding it.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path

from instep.readers import (
    MAX_XLSX_COMPRESSION_RATIO,
    MAX_XLSX_UNCOMPRESSED_BYTES,
    SubmissionTable,
    UnreadableFile,
    _normalise_header,
    append_rows,
    cell_text,
    check_header,
)

SHEET_NAME = "submission"


def check_archive(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except zipfile.BadZipFile as error:
        raise UnreadableFile("unreadable_format", f"the workbook is damaged: {error}") from None
    total = sum(entry.file_size for entry in entries)
    compressed = sum(entry.compress_size for entry in entries) or 1
    if total > MAX_XLSX_UNCOMPRESSED_BYTES or total / compressed > MAX_XLSX_COMPRESSION_RATIO:
        raise UnreadableFile(
            "too_large",
            f"the workbook expands to {total:,} bytes from {compressed:,} "
            f"(limits: {MAX_XLSX_UNCOMPRESSED_BYTES:,} bytes, ratio {MAX_XLSX_COMPRESSION_RATIO}); "
            "it looks like a zip bomb",
        )


def read_xlsx(path: Path) -> SubmissionTable:
    check_archive(path)
    import openpyxl  # imported here: workbooks are rare and openpyxl is slow to import

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about unsupported extensions
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for damaged workbooks
        raise UnreadableFile(
            "unreadable_format", f"the workbook cannot be opened: {type(error).__name__}: {error}"
        ) from None
    try:
        names = {name.strip().lower(): name for name in workbook.sheetnames}
        if SHEET_NAME not in names:
            raise UnreadableFile(
                "missing_submission_sheet",
                "the workbook has no sheet named 'submission'; sheets found: "
                + ", ".join(workbook.sheetnames),
            )
        sheet = workbook[names[SHEET_NAME]]
        rows = sheet.iter_rows(values_only=True)
        try:
            first = next(rows)
        except StopIteration:
            raise UnreadableFile("empty_file", "the 'submission' sheet is empty") from None
        header = _normalise_header([cell_text(cell, "") or "" for cell in first])
        positions, ignored = check_header(header)
        column_at = {position: name for name, position in positions.items()}
        table = SubmissionTable(format="xlsx", ignored_columns=ignored)

        def numbered() -> Iterator[tuple[int, list[str | None]]]:
            for index, cells in enumerate(rows, start=1):
                yield (
                    index,
                    [cell_text(cell, column_at.get(i, "")) for i, cell in enumerate(cells)],
                )

        return append_rows(table, numbered(), positions, len(header))
    finally:
        workbook.close()
