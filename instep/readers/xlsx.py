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
from datetime import date, datetime, time
from itertools import zip_longest
from pathlib import Path

from instep.readers.core import (
    MAX_COLUMNS,
    MAX_XLSX_COMPRESSION_RATIO,
    MAX_XLSX_UNCOMPRESSED_BYTES,
    SubmissionTable,
    UnreadableFile,
    append_rows,
    check_header,
    normalise_header,
    unreadable,
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
        raise unreadable("unreadable_format.damaged_workbook", error=error) from None
    total = sum(entry.file_size for entry in entries)
    compressed = sum(entry.compress_size for entry in entries) or 1
    if total > MAX_XLSX_UNCOMPRESSED_BYTES or total / compressed > MAX_XLSX_COMPRESSION_RATIO:
        raise unreadable(
            "too_large.zip_bomb",
            size=total,
            compressed=compressed,
            limit=MAX_XLSX_UNCOMPRESSED_BYTES,
            ratio=MAX_XLSX_COMPRESSION_RATIO,
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
        raise unreadable(
            "unreadable_format.workbook_not_opened", error_type=type(error).__name__, error=error
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
            raise unreadable(
                "ambiguous_submission_sheet.sheets", sheets=", ".join(f"'{name}'" for name in candidates)
            )
        if SHEET_NAME not in names:
            raise unreadable("missing_submission_sheet.sheets", sheets=", ".join(workbook.sheetnames))
        sheet = workbook[names[SHEET_NAME]]
        if sheet.sheet_state != "visible":
            # What the factory sees must be what is ingested: a hidden sheet is easily a stale copy.
            raise unreadable("hidden_submission_sheet.state", sheet=sheet.title, state=sheet.sheet_state)
        # The second view of the sheet (formula text) only matters if the workbook holds a formula; most
        # do not, and parsing the sheet again would double the time of reading them.
        if not has_formulas(source):
            return _read_sheet(sheet, None)
        formulas = _open(source, data_only=False)
        return _read_sheet(sheet, formulas[sheet.title])
    except UnreadableFile:
        raise
    except Exception as error:  # sheets are read lazily: a damaged part of the zip shows up only here
        raise unreadable(
            "unreadable_format.sheet_damaged", error_type=type(error).__name__, error=error
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
            if number == previous:
                raise unreadable("unreadable_format.sheet_row_repeated", row=number, sheet=sheet.title)
            if number < previous:
                raise unreadable(
                    "unreadable_format.sheet_row_out_of_order",
                    row=number,
                    sheet=sheet.title,
                    previous=previous,
                )
            previous = number
            values: dict[int, object] = {}
            for cell in cells:
                column = cell["column"]
                if column in values:
                    raise unreadable(
                        "unreadable_format.sheet_cell_repeated", row=number, sheet=sheet.title, column=column
                    )
                values[column] = cell["value"]
            yield number, values


def _read_sheet(sheet, formula_sheet) -> SubmissionTable:  # openpyxl read-only worksheets (or None)
    rows = _stored_rows(sheet)
    formula_rows = iter(()) if formula_sheet is None else _stored_rows(formula_sheet)
    first = next(rows, None)
    if first is None:
        raise unreadable("empty_file.empty_sheet")
    header_cells = first[1] if first[0] == 1 else {}
    if first[0] == 1:
        next(formula_rows, None)
    else:
        rows = itertools.chain([first], rows)
    width = max(header_cells, default=0)
    if width > MAX_COLUMNS:
        raise unreadable("too_large.header_cell", column=width, limit=MAX_COLUMNS)
    header = normalise_header([cell_text(header_cells.get(c), "") or "" for c in range(1, width + 1)])
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


def cell_text(value: object, column: str) -> str | None:
    """The text of a workbook cell, as the factory would read it on screen."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        if column == "period":
            return value.strftime("%Y-%m")
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.strftime("%Y-%m") if column == "period" else value.isoformat()
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        return repr(value) if not value.is_integer() else str(int(value))
    return str(value)
