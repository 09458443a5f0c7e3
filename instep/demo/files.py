"""Writing submissions as factories send them: CSV (with or without BOM, comma or semicolon), JSON, XLSX.

Every writer is byte-reproducible: no clock, no random order. Workbooks get fixed document dates and
fixed zip entry times.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from instep.readers import SUBMISSION_COLUMNS

Row = list[str]  # facility_id, period, metric, value, unit, sample_point, sample_date, comment

EXTENSIONS = {"csv": "csv", "csv_bom": "csv", "csv_semicolon": "csv", "json": "json", "xlsx": "xlsx"}
# Workbook document dates and zip entry times: fixed, so the same workbook gives the same bytes.
WORKBOOK_TIMESTAMP = datetime(2025, 12, 31, 0, 0, 0)
ZIP_TIMESTAMP = (2025, 12, 31, 0, 0, 0)
_JSON_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?")


def typed_value(text: str) -> str | int | float:
    """A value cell as a spreadsheet or JSON writer would store it: numbers as numbers, the rest as text."""
    if _JSON_NUMBER.fullmatch(text):
        return float(text) if "." in text else int(text)
    return text


def write_csv(
    path: Path, rows: Sequence[Row], style: str, header: Sequence[str] = SUBMISSION_COLUMNS
) -> None:
    delimiter = ";" if style == "csv_semicolon" else ","
    # Files saved by spreadsheet programs (BOM, semicolons) end lines with CRLF.
    terminator = "\n" if style == "csv" else "\r\n"
    buffer = io.StringIO()
    if style == "csv_bom":
        buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=terminator)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8"))


def write_json(path: Path, rows: Sequence[Row]) -> None:
    lines = []
    for row in rows:
        record: dict[str, str | int | float] = {}
        for name, cell in zip(SUBMISSION_COLUMNS, row, strict=True):
            if name in ("facility_id", "period", "metric", "unit"):
                record[name] = cell
            elif name == "value":
                record[name] = typed_value(cell)
            elif cell:
                record[name] = cell
        lines.append("  " + json.dumps(record, ensure_ascii=False))
    path.write_text('{"records": [\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")


def save_workbook(workbook: object, path: Path) -> None:
    """Save an openpyxl workbook so that the same content always gives the same bytes."""
    from openpyxl.writer.excel import ExcelWriter

    workbook.properties.created = WORKBOOK_TIMESTAMP  # type: ignore[attr-defined]
    workbook.properties.modified = WORKBOOK_TIMESTAMP  # type: ignore[attr-defined]
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).save()
    stable = io.BytesIO()
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(stable, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=ZIP_TIMESTAMP)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            target.writestr(fixed, source.read(entry.filename))
    path.write_bytes(stable.getvalue())


def write_xlsx(
    path: Path,
    rows: Sequence[Row],
    about: Sequence[Sequence[str]],
    sheet_name: str = "submission",
    header: Sequence[str] = SUBMISSION_COLUMNS,
) -> None:
    """A workbook like the template: the data sheet (header in row 1) and an `about` sheet."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name)
    sheet.append(list(header))
    for row in rows:
        sheet.append([typed_value(cell) if column == 3 else cell for column, cell in enumerate(row)])
    if about:
        notes = workbook.create_sheet("about")
        for line in about:
            notes.append(list(line))
    save_workbook(workbook, path)


FAKE_PDF = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"3 0 obj\n<< /Length 44 >>\nstream\n\x00\x01\x02SYNTHETIC demo: a scanned report, not data\nendstream\n"
    b"endobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def write_submission(
    directory: Path, stem: str, style: str, rows: Sequence[Row], about: Sequence[Sequence[str]]
) -> str:
    """Write rows in the given style; return the file name."""
    name = f"{stem}.{EXTENSIONS[style]}"
    path = directory / name
    if style == "json":
        write_json(path, rows)
    elif style == "xlsx":
        write_xlsx(path, rows, about)
    else:
        write_csv(path, rows, style)
    return name
