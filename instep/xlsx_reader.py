"""Reading the template workbook: the `submission` sheet, header in row 1.

A workbook is a zip archive; its declared sizes are checked before anything is decompressed, so a zip
bomb is refused without expanding it.
"""

from __future__ import annotations

import io
import itertools
import re
import warnings
import zipfile
from collections.abc import Iterator
from itertools import zip_longest
from pathlib import Path

from instep.readers import (
    MAX_COLUMNS,
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
# A formula element in any part of the workbook (with or without a namespace prefix): `<f>`, `<f t=..>`,
# `<x:f/>`. Element text is escaped in XML, so this can only match a tag.
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")

# A workbook is given as its path or as its content already read.
Source = Path | bytes


def _file(source: Source) -> Path | io.BytesIO:
    return io.BytesIO(source) if isinstance(source, bytes) else source


def check_archive(source: Source) -> None:
    try:
        with zipfile.ZipFile(_file(source)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, NotImplementedError, OSError, ValueError) as error:
        # NotImplementedError: a zip feature Python does not read (a damaged version field, say).
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


def has_formulas(source: Source) -> bool:
    """Whether any XML part of the workbook may hold a formula element (run after `check_archive`).

    A part that cannot be scanned counts as holding one: the workbook is then read as before, with both
    views, and openpyxl decides whether it is damaged.
    """
    try:
        with zipfile.ZipFile(_file(source)) as archive:
            for entry in archive.infolist():
                if not entry.filename.lower().endswith(".xml"):
                    continue
                with archive.open(entry) as part:
                    # Read in blocks overlapping by a few bytes, so that a tag split between blocks is seen.
                    tail = b""
                    for block in iter(lambda part=part: part.read(1 << 20), b""):
                        if _FORMULA_TAG.search(tail + block):
                            return True
                        tail = block[-32:]
    except Exception:  # any damage: fall back to reading the formula view
        return True
    return False


def _open(source: Source, *, data_only: bool):  # -> openpyxl Workbook (openpyxl is imported lazily)
    import openpyxl  # imported here: workbooks are rare and openpyxl is slow to import

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about unsupported extensions
            return openpyxl.load_workbook(_file(source), read_only=True, data_only=data_only)
    except Exception as error:  # openpyxl raises many types for damaged workbooks
        raise UnreadableFile(
            "unreadable_format", f"the workbook cannot be opened: {type(error).__name__}: {error}"
        ) from None


def _cell(value: object, formula: object, column: str) -> str | None:
    """A cell's saved value; a formula whose result was never saved comes back as its formula text.

    Excel saves each formula's last result and that is what the factory saw. A workbook written by a
    program may hold formulas without results: their text ("=B2*2") then reaches validation, which
    rejects it under `formula_without_result` instead of reading an empty cell.
    """
    if value is None and isinstance(formula, str) and formula.startswith("="):
        return formula
    return cell_text(value, column)


def read_xlsx(source: Source) -> SubmissionTable:
    check_archive(source)
    workbook = _open(source, data_only=True)
    formulas = None
    try:
        names = {name.strip().lower(): name for name in workbook.sheetnames}
        candidates = [name for name in workbook.sheetnames if name.strip().lower() == SHEET_NAME]
        if len(candidates) > 1:
            # Which one the factory meant cannot be known; reading either could ingest a stale copy.
            raise UnreadableFile(
                "ambiguous_submission_sheet",
                "the workbook has more than one sheet named 'submission': "
                + ", ".join(f"'{name}'" for name in candidates)
                + "; keep one and delete or rename the others",
            )
        if SHEET_NAME not in names:
            raise UnreadableFile(
                "missing_submission_sheet",
                "the workbook has no sheet named 'submission'; sheets found: "
                + ", ".join(workbook.sheetnames),
            )
        sheet = workbook[names[SHEET_NAME]]
        if sheet.sheet_state != "visible":
            # What the factory sees must be what is ingested: a hidden sheet is easily a stale copy.
            raise UnreadableFile(
                "hidden_submission_sheet",
                f"the '{sheet.title}' sheet is {sheet.sheet_state}; unhide it (right-click a sheet tab, "
                "Unhide) and check its rows before sending",
            )
        # The second view of the sheet (formula text) only matters if the workbook holds a formula; most
        # do not, and parsing the sheet again would double the time of reading them.
        if not has_formulas(source):
            return _read_sheet(sheet, None)
        formulas = _open(source, data_only=False)
        return _read_sheet(sheet, formulas[sheet.title])
    except UnreadableFile:
        raise
    except Exception as error:  # sheets are read lazily: a damaged part of the zip shows up only here
        raise UnreadableFile(
            "unreadable_format",
            f"the 'submission' sheet is damaged and cannot be read: {type(error).__name__}: {error}",
        ) from None
    finally:
        workbook.close()
        if formulas is not None:
            formulas.close()


def _stored_rows(sheet) -> Iterator[tuple[int, dict[int, object]]]:  # an openpyxl read-only worksheet
    """(sheet row number, {column number: value}) for each row element of the sheet, in stored order.

    The sheet XML is parsed directly rather than through `iter_rows`: that pads every row to the
    dimension the file declares (a 2 KB file declaring A1:XFD1048576 costs minutes), and silently drops
    a row stored after a higher-numbered one and the first of two rows with the same number. Here the
    work is linear in the XML, and a row or cell out of order or repeated rejects the file, naming it.
    """
    from openpyxl.worksheet._reader import WorkSheetParser

    workbook = sheet.parent
    with sheet._get_source() as source:
        parser = WorkSheetParser(
            source,
            sheet._shared_strings,
            data_only=workbook.data_only,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        previous = 0
        for number, cells in parser.parse():
            if number <= previous:
                what = "a second time" if number == previous else f"after row {previous}"
                raise UnreadableFile(
                    "unreadable_format",
                    f"row {number} of the '{sheet.title}' sheet is stored {what}; the workbook was "
                    "written by a program that breaks the XLSX format (Excel would repair or refuse it). "
                    "Open it in Excel or LibreOffice and save it again, or send CSV",
                )
            previous = number
            values: dict[int, object] = {}
            for cell in cells:
                column = cell["column"]
                if column in values:
                    raise UnreadableFile(
                        "unreadable_format",
                        f"row {number} of the '{sheet.title}' sheet holds column {column} twice; the "
                        "workbook breaks the XLSX format. Open it in Excel or LibreOffice and save it "
                        "again, or send CSV",
                    )
                values[column] = cell["value"]
            yield number, values


def _read_sheet(sheet, formula_sheet) -> SubmissionTable:  # openpyxl read-only worksheets (or None)
    rows = _stored_rows(sheet)
    formula_rows = iter(()) if formula_sheet is None else _stored_rows(formula_sheet)
    first = next(rows, None)
    if first is None:
        raise UnreadableFile("empty_file", "the 'submission' sheet is empty")
    header_cells = first[1] if first[0] == 1 else {}
    if first[0] == 1:
        next(formula_rows, None)
    else:
        rows = itertools.chain([first], rows)
    width = max(header_cells, default=0)
    if width > MAX_COLUMNS:
        raise UnreadableFile(
            "too_large",
            f"the header row has a cell in column {width:,}; a submission has at most {MAX_COLUMNS:,} "
            "columns",
        )
    header = _normalise_header([cell_text(header_cells.get(c), "") or "" for c in range(1, width + 1)])
    positions, ignored = check_header(header)
    column_at = {position + 1: name for name, position in positions.items()}
    table = SubmissionTable(format="xlsx", ignored_columns=ignored)

    def numbered() -> Iterator[tuple[int, list[str | None]]]:
        # Both views parse the same sheet XML, so their rows line up; zip_longest never drops one.
        for (number, cells), formula in zip_longest(rows, formula_rows, fillvalue=(0, {})):
            formulas = formula[1]
            texts: list[str | None] = [
                _cell(cells.get(c), formulas.get(c), column_at.get(c, "")) for c in range(1, width + 1)
            ]
            # A value right of the header's last column only matters as "a cell without a column name".
            beyond = [cells[c] for c in cells if c > width]
            texts += [cell_text(value, "") for value in beyond]
            yield number - 1, texts

    return append_rows(table, numbered(), positions, len(header))
