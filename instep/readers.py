"""Reading submission files (CSV, XLSX, JSON) into rows of submitted text.

Readers never interpret values: every cell comes back as the text the factory sent (numbers from a
workbook as their shortest exact decimal form), so that validation can judge it and the ledger can keep
it. A file that cannot be read at all raises `UnreadableFile` with the rule from `expectations/rules.csv`.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path, PurePath

from instep.metadata.ledger import SUBMISSION

SUBMISSION_COLUMNS = SUBMISSION.field_names
REQUIRED_COLUMNS = SUBMISSION.required_names

# Limits that keep a hostile file from exhausting memory: a real monthly submission is a few hundred KB.
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_XLSX_UNCOMPRESSED_BYTES = 512 * 1024 * 1024
MAX_XLSX_COMPRESSION_RATIO = 200
# Excel's own limit for the text of one cell; a longer cell is rejected with its row (cell_too_long).
MAX_CELL_CHARS = 32_767
# Deeper JSON is not a submission; refusing it early keeps the parser far from the recursion limit.
MAX_JSON_DEPTH = 64
# Lines one quoted CSV cell may span: a comment of a few paragraphs, not a quote left open.
MAX_CELL_LINES = 20
# Columns of a header, keys of a JSON record: the template has 8; more than this is not a submission, and
# refusing it first keeps each row's work bounded.
MAX_COLUMNS = 256

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_BOM = "\ufeff"
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff")  # UTF-16 and UTF-32 text, as Excel's "Unicode text" saves it
_TEXT_SUFFIXES = {".csv", ".txt", ".tsv", ".json", ""}


class UnreadableFile(Exception):
    """The whole file is rejected: `rule` is a file-scope rule id from expectations/rules.csv."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


@dataclass
class SubmissionTable:
    """The data rows of one file as submitted text, with their position in the file."""

    format: str
    row_numbers: list[int] = field(default_factory=list)
    columns: dict[str, list[str | None]] = field(
        default_factory=lambda: {name: [] for name in SUBMISSION_COLUMNS}
    )
    extra_cells: list[bool] = field(default_factory=list)
    ignored_columns: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.row_numbers)

    def append(self, row_number: int, values: dict[str, str | None], extra: bool = False) -> None:
        self.row_numbers.append(row_number)
        for name in SUBMISSION_COLUMNS:
            self.columns[name].append(values.get(name))
        self.extra_cells.append(extra)


def detect_format(path: PurePath, head: bytes, data: bytes | None = None) -> str:
    """Decide the format from the content first, the file name second.

    `data` is the whole content when it is in memory already; otherwise a ZIP file is opened at `path`.
    """
    suffix = path.suffix.lower()
    if head.startswith(_OLE2_MAGIC):
        return "ole2"
    if head.startswith(_ZIP_MAGIC):
        looks_like_xlsx = _looks_like_xlsx(io.BytesIO(data) if data is not None else Path(path))
        return "xlsx" if suffix in {".xlsx", ".xlsm", ""} or looks_like_xlsx else "zip"
    if head.startswith(_WIDE_BOMS):
        return "wide_text"
    if b"\x00" in head[:4096] and suffix not in _TEXT_SUFFIXES:
        return "binary"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if suffix == ".json" or stripped.startswith((b"{", b"[")):
        return "json"
    if suffix in {".csv", ".txt", ".tsv", ""}:
        return "csv"
    return "unknown"


def _looks_like_xlsx(source: Path | io.BytesIO) -> bool:
    try:
        with zipfile.ZipFile(source) as archive:
            return "[Content_Types].xml" in archive.namelist() and any(
                name.startswith("xl/") for name in archive.namelist()
            )
    except (zipfile.BadZipFile, NotImplementedError, OSError, ValueError):
        return False


def display_name(name: str) -> str:
    """A file name safe to print in a report or log line: control characters shown as escapes.

    Names come from whoever dropped the file; a newline or terminal escape in one must not forge a line
    of a report. The ledger keeps the name as it was.
    """
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


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
        raise UnreadableFile(
            "unreadable_format",
            f"the file could not be read ({type(error).__name__}: {str(error)[:200]}); "
            "please report this file to the data steward",
        ) from error


def check_size(size: int) -> None:
    """Reject an empty file, or one too large to be a submission, before reading it into memory."""
    if size == 0:
        raise UnreadableFile("empty_file", "the file is empty (0 bytes)")
    if size > MAX_FILE_BYTES:
        raise UnreadableFile(
            "too_large", f"the file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,} bytes"
        )


def read_by_format(path: Path) -> SubmissionTable:
    """Read one file by its detected format; errors other than `UnreadableFile` are defects."""
    check_size(path.stat().st_size)
    return read_data_by_format(path.name, path.read_bytes())


def read_data_by_format(name: str, data: bytes) -> SubmissionTable:
    """Read one file's content by its detected format; errors other than `UnreadableFile` are defects."""
    check_size(len(data))
    kind = detect_format(PurePath(name), data[:8192], data)
    if kind in {"csv", "json", "xlsx"}:
        if kind == "xlsx":
            from instep.xlsx_reader import read_xlsx

            table = read_xlsx(data)
        else:
            table = read_csv(data) if kind == "csv" else read_json(data)
        check_cell_text(table)
        return table
    if kind == "ole2":
        raise UnreadableFile(
            "encrypted_workbook",
            "the file is an OLE2 container: a password-protected workbook or a legacy .xls file; "
            "save it as an unprotected .xlsx workbook or CSV",
        )
    if kind == "wide_text":
        raise UnreadableFile(
            "encoding",
            "the file is UTF-16 (or UTF-32) text, as Excel's 'Unicode text' saves it; save it as UTF-8 "
            "(in Excel: 'CSV UTF-8 (comma delimited)')",
        )
    described = {"zip": "a ZIP archive that is not an XLSX workbook", "binary": "a binary file"}
    raise UnreadableFile(
        "unreadable_format",
        f"{display_name(name)} is {described.get(kind, 'not a CSV, XLSX or JSON file')}; "
        "send a CSV (UTF-8), an XLSX workbook with a 'submission' sheet, or JSON",
    )


def decode_text(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UnreadableFile(
            "encoding",
            f"byte {error.start} (line {line}) is not valid UTF-8; save the file as UTF-8 "
            "(in Excel: 'CSV UTF-8 (comma delimited)')",
        ) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        # Valid UTF-8, but no submission holds NUL: it is UTF-16 without a BOM or a binary file.
        line = data[:nul].count(b"\n") + 1
        raise UnreadableFile(
            "encoding",
            f"byte {nul} (line {line}) is a NUL character: the file is binary or UTF-16 text, not UTF-8; "
            "save the file as UTF-8 (in Excel: 'CSV UTF-8 (comma delimited)')",
        )
    return text.removeprefix(_BOM)


def _where(table: SubmissionTable, position: int) -> str:
    """How a person finds a data row of the file: its line, sheet row or record."""
    number = table.row_numbers[position]
    if table.format == "json":
        return f"record {number}"
    return f"{'row' if table.format == 'xlsx' else 'line'} {number + 1}"


def _text_fault(text: str) -> str | None:
    """What makes `text` impossible to store as UTF-8 text in the ledger, or None."""
    if "\x00" in text:
        return "a NUL character, which no text of a submission holds (the ledger and reports cannot)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        code = ord(text[error.start])
        return f"an unpaired surrogate escape (\\u{code:04x}), which is not a character; UTF-8 cannot hold it"
    return None


def check_cell_text(table: SubmissionTable) -> None:
    """Reject a file whose cells or column names hold text UTF-8 cannot hold (lone surrogates from a JSON
    escape such as "\\ud800", or NUL characters from "\\u0000" or a workbook's "_x0000_").

    A CSV cannot hold either (its bytes are decoded strictly), but the other formats can spell them with
    escapes. Arrow, DuckDB and the reports would fail on such text far from the file, so it is refused
    here, naming the row and column. Each column is checked joined into one string, so the cost is one
    pass over the text; the cells are searched only once a fault is known.
    """
    for name in table.ignored_columns:
        fault = _text_fault(name)
        if fault:
            raise UnreadableFile("encoding", f"the column name '{display_name(name)}' holds {fault}")
    for name, values in table.columns.items():
        if _text_fault("".join(value for value in values if value)) is None:
            continue
        for position, value in enumerate(values):
            fault = _text_fault(value) if value else None
            if fault:
                raise UnreadableFile(
                    "encoding",
                    f"{_where(table, position)}, column {name}: the text holds {fault}; remove it, or "
                    "save the file as UTF-8 text from the program that wrote it",
                )


def _normalise_header(cells: list[str]) -> list[str]:
    return [cell.strip().removeprefix(_BOM).strip().lower() for cell in cells]


def check_header(header: list[str]) -> tuple[dict[str, int], tuple[str, ...]]:
    """Map each known column to its position; reject duplicate or missing required columns."""
    if len(header) > MAX_COLUMNS:
        raise UnreadableFile(
            "too_large",
            f"the header has {len(header):,} columns; a submission has at most {MAX_COLUMNS:,} "
            "(the template has 8)",
        )
    seen: dict[str, int] = {}
    duplicates = []
    for position, name in enumerate(header):
        if not name:
            continue
        if name in seen:
            duplicates.append(name)
        else:
            seen[name] = position
    if duplicates:
        raise UnreadableFile(
            "duplicate_columns",
            "the header names these columns more than once: " + ", ".join(sorted(set(duplicates))),
        )
    missing = [name for name in REQUIRED_COLUMNS if name not in seen]
    if missing:
        raise UnreadableFile(
            "missing_columns",
            "the header lacks the required columns "
            + ", ".join(missing)
            + "; found: "
            + (", ".join(name for name in header if name) or "no column names"),
        )
    positions = {name: seen[name] for name in SUBMISSION_COLUMNS if name in seen}
    ignored = tuple(name for name in seen if name not in SUBMISSION_COLUMNS)
    return positions, ignored


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _separator_hint(first_line: str) -> str | None:
    """Why the header did not split into columns, when the separator is the reason, by its name."""
    if re.fullmatch(r'\s*"?sep=.?"?\s*', first_line, flags=re.IGNORECASE):
        return (
            f"the first line is {first_line.strip()!r}, Excel's line naming the separator, not the header; "
            "delete that line (or save again as 'CSV UTF-8 (comma delimited)')"
        )
    for name, separator in (("tab", "\t"), ("vertical bar", "|")):
        cells = _normalise_header(first_line.split(separator))
        if sum(cell in SUBMISSION_COLUMNS for cell in cells) >= 2:
            return (
                f"the header is separated by {name} characters; save the file with commas or semicolons "
                "between the columns (in Excel: 'CSV UTF-8 (comma delimited)')"
            )
    return None


def sniff_delimiter(header_line: str) -> str:
    """Comma or semicolon, whichever splits the header into more known columns."""

    def known(delimiter: str) -> int:
        try:
            cells = _normalise_header(next(csv.reader([header_line], delimiter=delimiter)))
        except csv.Error:  # a stray carriage return: the full parse reports it with its line
            return 0
        return sum(cell in SUBMISSION_COLUMNS for cell in cells)

    return ";" if known(";") > known(",") else ","


def append_rows(
    table: SubmissionTable,
    rows: Iterator[tuple[int, list[str | None]]],
    positions: dict[str, int],
    header_width: int,
) -> SubmissionTable:
    """Add data rows; blank rows are skipped (they are not data), their numbers kept in place."""
    for row_number, cells in rows:
        if all(cell is None or not cell.strip() for cell in cells):
            continue
        values = {
            name: (cells[position] if position < len(cells) else None) for name, position in positions.items()
        }
        extra = any(cell is not None and cell.strip() for cell in cells[header_width:])
        table.append(row_number, values, extra=extra)
    if not table.row_numbers:
        raise UnreadableFile("empty_file", "the file has a header but no data rows")
    return table


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
            found = (
                f"{len(like_rows)} of them look like rows of the file"
                if like_rows
                else f"more than the {MAX_CELL_LINES} lines a cell may span"
            )
            raise UnreadableFile(
                "unreadable_format",
                f"line {first}: a quoted cell opened on this line runs to line {last} ({len(lines)} lines; "
                f'{found}); a quote (") is probably missing its closing quote. Close the quote, or '
                "remove the quote character from the cell",
            )


def read_csv(data: bytes) -> SubmissionTable:
    text = decode_text(data)
    # The csv module refuses fields over 128 KB and would reject the whole file; a long cell is the
    # row's problem (rule cell_too_long), so let any field through that fits in an accepted file.
    csv.field_size_limit(MAX_FILE_BYTES)
    if not text.strip():
        raise UnreadableFile("empty_file", "the file holds no text")
    # Any line ending counts, a carriage return alone included (old Mac files): the csv module reads
    # them all, and the header must be sniffed from its own line, not from the whole file.
    first_line = _LINE_BREAK.split(text, maxsplit=1)[0]
    delimiter = sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    try:
        header = _normalise_header(next(reader))
    except StopIteration:
        raise UnreadableFile("empty_file", "the file holds no header row") from None
    except csv.Error as error:
        raise UnreadableFile("unreadable_format", f"the header cannot be parsed: {error}") from None
    width = len(header)
    try:
        positions, ignored = check_header(header)
    except UnreadableFile as error:
        hint = _separator_hint(first_line)
        if error.rule != "missing_columns" or not hint:
            raise
        raise UnreadableFile(error.rule, f"{error.message}; {hint}") from None
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
        raise UnreadableFile(
            "unreadable_format", f"line {reader.line_num}: the CSV cannot be parsed: {error}"
        ) from None
    if not rows:
        raise UnreadableFile("empty_file", "the file has a header but no data rows")
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


def _json_cell(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


class _Record(dict):
    """A JSON object that remembers the keys it named more than once (json keeps only the last)."""

    def __init__(self, pairs: list[tuple[str, object]]) -> None:
        if len(pairs) > MAX_COLUMNS:
            raise UnreadableFile(
                "too_large",
                f"a JSON object names {len(pairs):,} keys; a record has at most {MAX_COLUMNS:,} "
                "(the template has 8 columns)",
            )
        super().__init__(pairs)
        counts = Counter(key.strip().lower() for key, _ in pairs)
        self.duplicates = sorted(name for name, count in counts.items() if count > 1)


def _json_depth(document: object) -> int:
    """The deepest nesting of arrays and objects in a parsed document, without recursion."""
    deepest = 0
    waiting: list[tuple[object, int]] = [(document, 1)]
    while waiting:
        value, depth = waiting.pop()
        if isinstance(value, dict):
            children: Iterable[object] = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, depth)
        if depth <= MAX_JSON_DEPTH:
            waiting.extend((child, depth + 1) for child in children)
    return deepest


_JSON_KIND = {list: "a list", str: "a string", Decimal: "a number", bool: "true or false", type(None): "null"}


def read_json(data: bytes) -> SubmissionTable:
    text = decode_text(data)
    too_deep = f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep; a submission needs 3"
    try:
        # Numbers stay exact text (Decimal): no float rounding, and no limit on the digits of integers.
        # The parser is linear in the text; a scan for nesting before it was quadratic on unterminated
        # strings, so the depth is measured on the parsed document.
        document = json.loads(text, parse_float=Decimal, parse_int=Decimal, object_pairs_hook=_Record)
    except json.JSONDecodeError as error:
        raise UnreadableFile("bad_json", f"line {error.lineno}, column {error.colno}: {error.msg}") from None
    except RecursionError:  # the parser's own guard against nesting: it never crashes the run
        raise UnreadableFile("bad_json", too_deep) from None
    if _json_depth(document) > MAX_JSON_DEPTH:
        raise UnreadableFile("bad_json", too_deep)
    if isinstance(document, _Record) and "records" in document.duplicates:
        # json keeps the last list silently; which one the program meant cannot be known.
        raise UnreadableFile(
            "duplicate_columns", 'the object names "records" more than once; send one list of records'
        )
    records = document.get("records") if isinstance(document, dict) else None
    if not isinstance(records, list):
        if isinstance(document, dict) and "records" in document:
            found = 'the "records" member is ' + _JSON_KIND.get(type(records), "an object")
        elif isinstance(document, dict):
            found = 'the object has no "records" member'
        else:
            found = "the top level is " + _JSON_KIND.get(type(document), "something else")
        raise UnreadableFile(
            "bad_json", 'expected an object {"records": [...]} with a list of row objects; ' + found
        )
    if not records:
        raise UnreadableFile("empty_file", 'the "records" list is empty')
    keys: set[str] = set()
    for number, record in enumerate(records, start=1):
        if not isinstance(record, _Record):
            # A program wrote this file; a record that is not an object means the program is wrong.
            raise UnreadableFile(
                "bad_json",
                f'record {number} of "records" is {_JSON_KIND.get(type(record), "something else")}, '
                "not an object with the submission columns",
            )
        if record.duplicates:
            raise UnreadableFile(
                "duplicate_columns",
                f"record {number} names these keys more than once: " + ", ".join(record.duplicates),
            )
        keys.update(str(key).strip().lower() for key in record)
    check_header(sorted(keys))
    table = SubmissionTable(format="json", ignored_columns=tuple(sorted(keys - set(SUBMISSION_COLUMNS))))
    for row_number, record in enumerate(records, start=1):
        lowered = {str(key).strip().lower(): value for key, value in record.items()}
        table.append(
            row_number,
            {name: _decimal_text(lowered.get(name)) for name in SUBMISSION_COLUMNS},
        )
    return table


def _decimal_text(value: object) -> str | None:
    if isinstance(value, Decimal):
        return str(value)
    return _json_cell(value)


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
