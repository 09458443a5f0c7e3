"""Reading a CSV submission: UTF-8 text, comma or semicolon separated, the header in the first line."""

from __future__ import annotations

import csv
import io
import re

from expectations.messages import fill
from instep.readers.core import (
    MAX_CELL_LINES,
    MAX_FILE_BYTES,
    SUBMISSION_COLUMNS,
    SubmissionTable,
    UnreadableFile,
    check_header,
    decode_text,
    normalise_header,
    unreadable,
)

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _separator_hint(first_line: str) -> str | None:
    """Why the header did not split into columns, when the separator is the reason, by its name."""
    if re.fullmatch(r'\s*"?sep=.?"?\s*', first_line, flags=re.IGNORECASE):
        return fill("missing_columns.excel_separator_line", first_line=first_line.strip())
    for name, separator in (("tab", "\t"), ("vertical bar", "|")):
        cells = normalise_header(first_line.split(separator))
        if sum(cell in SUBMISSION_COLUMNS for cell in cells) >= 2:
            return fill("missing_columns.other_separator", separator=name)
    return None


def sniff_delimiter(header_line: str) -> str:
    """Comma or semicolon, whichever splits the header into more known columns."""

    def known(delimiter: str) -> int:
        try:
            cells = normalise_header(next(csv.reader([header_line], delimiter=delimiter)))
        except csv.Error:  # a stray carriage return: the full parse reports it with its line
            return 0
        return sum(cell in SUBMISSION_COLUMNS for cell in cells)

    return ";" if known(";") > known(",") else ","


def check_multiline_record(cells: list[str], first: int, last: int, delimiter: str, width: int) -> None:
    """Reject a record whose quoted cell runs over lines that look like rows, or over too many lines.

    A quote opened in a comment and closed lines later (or never) makes the rows between part of one
    cell: they would be lost without a word. A real multi-line comment is a few lines of prose.
    """
    for cell in cells:
        if "\n" not in cell and "\r" not in cell:
            continue
        lines = cell.splitlines()
        like_rows = [text for text in lines if width > 1 and text.count(delimiter) >= width - 1]
        if like_rows or len(lines) > MAX_CELL_LINES:
            if like_rows:
                raise unreadable(
                    "unreadable_format.quote_spans_rows",
                    first=first,
                    last=last,
                    lines=len(lines),
                    rows=len(like_rows),
                )
            raise unreadable(
                "unreadable_format.quote_spans_lines",
                first=first,
                last=last,
                lines=len(lines),
                limit=MAX_CELL_LINES,
            )


def read_csv(data: bytes) -> SubmissionTable:
    text = decode_text(data)
    # The csv module refuses fields over 128 KB and would reject the whole file; a long cell is the
    # row's problem (rule cell_too_long), so let any field through that fits in an accepted file.
    csv.field_size_limit(MAX_FILE_BYTES)
    if not text.strip():
        raise unreadable("empty_file.no_text")
    # Any line ending counts, a carriage return alone included (old Mac files): the csv module reads
    # them all, and the header must be sniffed from its own line, not from the whole file.
    first_line = _LINE_BREAK.split(text, maxsplit=1)[0]
    delimiter = sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    try:
        header = normalise_header(next(reader))
    except StopIteration:
        raise unreadable("empty_file.no_header") from None
    except csv.Error as error:
        raise unreadable("unreadable_format.csv_header", error=error) from None
    width = len(header)
    try:
        positions, ignored = check_header(header)
    except UnreadableFile as error:
        hint = _separator_hint(first_line)
        if error.rule != "missing_columns" or not hint:
            raise
        raise unreadable("missing_columns.with_separator_hint", message=error.message, hint=hint) from None
    table = SubmissionTable(format="csv", ignored_columns=ignored)
    # The rows are gathered as lists of the header's width and turned into columns at once: the same
    # outcome as `append_rows`, without a dictionary per row (this loop is most of the time of ingest).
    numbers: list[int] = []
    rows: list[list[str | None]] = []
    extra_at: list[int] = []
    line = reader.line_num
    try:
        for index, cells in enumerate(reader, start=1):
            if reader.line_num - line > 1:  # a quoted cell spans lines: rare, so checked only then
                check_multiline_record(cells, line + 1, reader.line_num, delimiter, width)
            line = reader.line_num
            # Blank rows (only whitespace) are not data; their numbers are kept in place.
            if not "".join(cells).strip():
                continue
            if len(cells) != width:
                if len(cells) > width:
                    if "".join(cells[width:]).strip():
                        extra_at.append(len(rows))
                    cells = cells[:width]
                else:
                    cells = [*cells, *([None] * (width - len(cells)))]
            numbers.append(index)
            rows.append(cells)
    except csv.Error as error:
        raise unreadable("unreadable_format.csv_line", line=reader.line_num, error=error) from None
    if not rows:
        raise unreadable("empty_file.no_data_rows")
    by_position = list(zip(*rows, strict=True))
    table.row_numbers = numbers
    table.columns = {
        name: list(by_position[positions[name]]) if name in positions else [None] * len(rows)
        for name in SUBMISSION_COLUMNS
    }
    table.extra_cells = [False] * len(rows)
    for position in extra_at:
        table.extra_cells[position] = True
    return table
