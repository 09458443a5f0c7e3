"""What every reader shares: the submission columns, the limits, the header rules, format sniffing and
`UnreadableFile`, the rejection of a whole file.

Readers never interpret values: every cell comes back as the text the factory sent (numbers from a
workbook as their shortest exact decimal form), so that validation can judge it and the ledger can keep
it. A file that cannot be read at all raises `UnreadableFile` with a message of
`expectations/messages.csv`, which names its rule of `expectations/rules.csv`.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from expectations.messages import message
from instep.metadata.ledger import SUBMISSION

SUBMISSION_COLUMNS = SUBMISSION.field_names
REQUIRED_COLUMNS = SUBMISSION.required_names

# Limits that keep a hostile file from exhausting memory: a real monthly submission is a few hundred KB.
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_XLSX_UNCOMPRESSED_BYTES = 512 * 1024 * 1024
MAX_XLSX_COMPRESSION_RATIO = 200
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


def unreadable(message_id: str, **values: object) -> UnreadableFile:
    """The rejection of a whole file with message `message_id` of expectations/messages.csv, filled in."""
    template = message(message_id)
    return UnreadableFile(template.rule, template.fill(**values))


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
    if name.isprintable():  # nearly every name: one C-level pass instead of one per character
        return name
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


def check_size(size: int) -> None:
    """Reject an empty file, or one too large to be a submission, before reading it into memory."""
    if size == 0:
        raise unreadable("empty_file.zero_bytes")
    if size > MAX_FILE_BYTES:
        raise unreadable("too_large.file_size", size=size, limit=MAX_FILE_BYTES)


def decode_text(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise unreadable("encoding.invalid_utf8", byte=error.start, line=line) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        # Valid UTF-8, but no submission holds NUL: it is UTF-16 without a BOM or a binary file.
        line = data[:nul].count(b"\n") + 1
        raise unreadable("encoding.nul_byte", byte=nul, line=line)
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
        return message("encoding.nul_character").fill()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return message("encoding.lone_surrogate").fill(code=f"{ord(text[error.start]):04x}")
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
            raise unreadable("encoding.column_name_text", column=display_name(name), fault=fault)
    for name, values in table.columns.items():
        if _text_fault("".join(value for value in values if value)) is None:
            continue
        for position, value in enumerate(values):
            fault = _text_fault(value) if value else None
            if fault:
                raise unreadable(
                    "encoding.cell_text", where=_where(table, position), column=name, fault=fault
                )


def normalise_header(cells: list[str]) -> list[str]:
    """Header cells as column names: trimmed, without a byte order mark, lower case."""
    return [cell.strip().removeprefix(_BOM).strip().lower() for cell in cells]


def check_header(header: list[str]) -> tuple[dict[str, int], tuple[str, ...]]:
    """Map each known column to its position; reject duplicate or missing required columns."""
    if len(header) > MAX_COLUMNS:
        raise unreadable("too_large.header_columns", columns=len(header), limit=MAX_COLUMNS)
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
        raise unreadable("duplicate_columns.header", columns=", ".join(sorted(set(duplicates))))
    missing = [name for name in REQUIRED_COLUMNS if name not in seen]
    if missing:
        raise unreadable(
            "missing_columns.header",
            missing=", ".join(missing),
            found=", ".join(name for name in header if name) or "no column names",
        )
    positions = {name: seen[name] for name in SUBMISSION_COLUMNS if name in seen}
    ignored = tuple(name for name in seen if name not in SUBMISSION_COLUMNS)
    return positions, ignored


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
        raise unreadable("empty_file.no_data_rows")
    return table
