"""A corpus of hostile and malformed submission files, built in code so no binary fixture is committed.

Each `Case` writes one file into an inbox and says what ingestion must do with it: reject the whole file
under a file rule, reject given rows under a row rule (all other rows accepted), or accept every row.
Every case uses its own reporting month, so no case restates another and "accepted" stays checkable.
The steward guide (site/steward/hostile-inputs.md) documents the same behaviour in its tables.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl

HEADER = ("facility_id", "period", "metric", "value", "unit", "sample_point", "sample_date", "comment")
HEADER_LINE = ",".join(HEADER)
FACILITY = "ET-HAW-F001"
# The valid file sent with the corpus uses another facility, so nothing in the corpus restates it.
VALID_FACILITY = "VN-TST-F001"
MUNICIPAL = "water.withdrawal.municipal"
GROUNDWATER = "water.withdrawal.groundwater"


@dataclass(frozen=True)
class Case:
    """One hostile file: its inbox name, how to write it, and the verdict ingestion must reach."""

    name: str
    what: str
    build: Callable[[Path, str], None]  # (target path, reporting month) -> writes the file
    file_rule: str | None = None  # whole-file rejection under this rule
    row_rules: dict[int, str] = field(default_factory=dict)  # row number -> rule; other rows accepted
    rows: int | None = None  # rows read (None for a whole-file rejection)
    message_has: tuple[str, ...] = ()  # words the rejection message must contain
    ingested: bool = True  # False: left in the inbox untouched and not recorded (hidden files, links)


def row(
    period: str, metric: str = "water.recycled", value: str = "10", unit: str = "m3", **extra: str
) -> list:
    cells = {"facility_id": FACILITY, "period": period, "metric": metric, "value": value, "unit": unit}
    cells.update(extra)
    return [cells.get(name, "") for name in HEADER]


def csv_text(rows: list[list[str]], delimiter: str = ",", header: str | None = None) -> str:
    def cell(text: str) -> str:
        return f'"{text}"' if delimiter in text or '"' in text or "\n" in text else text

    lines = [header if header is not None else delimiter.join(HEADER)]
    lines += [delimiter.join(cell(str(c)) for c in r) for r in rows]
    return "\n".join(lines) + "\n"


def write_bytes(data: bytes) -> Callable[[Path, str], None]:
    def build(path: Path, period: str) -> None:
        path.write_bytes(data)

    return build


def text_file(make: Callable[[str], str], encoding: str = "utf-8") -> Callable[[Path, str], None]:
    def build(path: Path, period: str) -> None:
        path.write_bytes(make(period).encode(encoding))

    return build


def workbook_bytes(fill: Callable[[openpyxl.Workbook, str], None], period: str) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "submission"
    sheet.append(list(HEADER))
    fill(workbook, period)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_file(fill: Callable[[openpyxl.Workbook, str], None]) -> Callable[[Path, str], None]:
    def build(path: Path, period: str) -> None:
        path.write_bytes(workbook_bytes(fill, period))

    return build


def _with_cached_formula(data: bytes, cell_ref: str, formula: str, cached: str) -> bytes:
    """openpyxl saves formulas without a result; Excel saves both. Add the result as Excel would."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = content.decode("utf-8")
                old = f'<c r="{cell_ref}"><f>{formula}</f><v /></c>'
                assert old in text, "openpyxl changed how it writes formula cells"
                text = text.replace(old, f'<c r="{cell_ref}"><f>{formula}</f><v>{cached}</v></c>')
                content = text.encode("utf-8")
            target.writestr(item, content)
    return out.getvalue()


def _formula_cached(path: Path, period: str) -> None:
    def fill(workbook: openpyxl.Workbook, period: str) -> None:
        workbook["submission"].append([*row(period)[:3], "=5*2", "m3"])

    path.write_bytes(_with_cached_formula(workbook_bytes(fill, period), "D2", "5*2", "10"))


def _formula_uncached(workbook: openpyxl.Workbook, period: str) -> None:
    workbook["submission"].append([*row(period)[:3], "=5*2", "m3"])
    workbook["submission"].append(row(period, metric=MUNICIPAL))


def _excel_dates(workbook: openpyxl.Workbook, period: str) -> None:
    from datetime import datetime

    year, month = (int(part) for part in period.split("-"))
    sheet = workbook["submission"]
    # The period typed as a date (Excel shows 01/03/2023): read as the month.
    sheet.append([FACILITY, datetime(year, month, 1), "water.recycled", 10.5, "m3"])
    # A wastewater sample date as a real date cell.
    sheet.append(
        [
            "ET-HAW-C001",
            datetime(year, month, 1),
            "wastewater.cod",
            40,
            "mg/L",
            "discharge",
            datetime(year, month, 15),
        ]
    )
    # The period as the date's serial number (a cell formatted as General): not a month.
    serial = (datetime(year, month, 1) - datetime(1899, 12, 30)).days
    sheet.append([FACILITY, serial, "water.withdrawal.municipal", 10, "m3"])


def _merged(workbook: openpyxl.Workbook, period: str) -> None:
    sheet = workbook["submission"]
    sheet.append(row(period))
    sheet.append(row(period, metric=MUNICIPAL))
    sheet.append(row(period, metric=GROUNDWATER))
    sheet.merge_cells("A2:A4")  # facility_id typed once across three rows


def _hidden_submission(workbook: openpyxl.Workbook, period: str) -> None:
    workbook["submission"].append(row(period))
    workbook["submission"].sheet_state = "hidden"
    workbook.create_sheet("about")


def _hidden_other_sheet(workbook: openpyxl.Workbook, period: str) -> None:
    workbook["submission"].append(row(period))
    notes = workbook.create_sheet("notes")
    notes.append(["internal", "figures"])
    notes.sheet_state = "hidden"


def _zip_bomb(path: Path, period: str) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (64 * 1024 * 1024))


def _encrypted(path: Path, period: str) -> None:
    import msoffcrypto.format.ooxml

    def fill(workbook: openpyxl.Workbook, period: str) -> None:
        workbook["submission"].append(row(period))

    plain = io.BytesIO(workbook_bytes(fill, period))
    encrypted = io.BytesIO()
    msoffcrypto.format.ooxml.OOXMLFile(plain).encrypt("secret", encrypted)
    path.write_bytes(encrypted.getvalue())


def _symlink_outside(path: Path, period: str) -> None:
    outside = path.parent.parent / "outside-the-inbox.csv"
    outside.write_text(csv_text([row(period)]), encoding="utf-8")
    path.symlink_to(outside)


def _json(make: Callable[[str], object]) -> Callable[[Path, str], None]:
    def build(path: Path, period: str) -> None:
        path.write_text(json.dumps(make(period)), encoding="utf-8")

    return build


def _record(period: str, **changes: object) -> dict[str, object]:
    record: dict[str, object] = dict(zip(HEADER[:5], row(period)[:5], strict=True))
    record["value"] = 10
    record.update(changes)
    return record


def _deeply_nested(path: Path, period: str) -> None:
    depth = 100_000
    path.write_text('{"records": ' + "[" * depth + "]" * depth + "}", encoding="utf-8")


def _huge_json_integer(path: Path, period: str) -> None:
    record = json.dumps(_record(period))
    path.write_text('{"records": [' + record.replace('"value": 10', '"value": ' + "9" * 5000) + "]}")


# The reporting months the cases use: one each, all long before the as-of date of the tests.
def period_for(index: int) -> str:
    return f"{2021 + index // 12}-{index % 12 + 1:02d}"


MB = 1024 * 1024
_BOM = "\ufeff"

CASES: tuple[Case, ...] = (
    Case("bom.csv", "UTF-8 with a byte-order mark", text_file(lambda p: _BOM + csv_text([row(p)])), rows=1),
    Case(
        "utf16.csv",
        "UTF-16 text (Excel 'Unicode text')",
        text_file(lambda p: csv_text([row(p)]), "utf-16"),
        file_rule="encoding",
        message_has=("UTF-16", "UTF-8"),
    ),
    Case(
        "latin1.csv",
        "Latin-1 / cp1252 text (an accent in the comment)",
        text_file(
            lambda p: csv_text([row(p), row(p, metric=MUNICIPAL, comment="Café")]),
            "cp1252",
        ),
        file_rule="encoding",
        message_has=("line 3", "UTF-8"),
    ),
    Case(
        "semicolon.csv",
        "semicolon separator",
        text_file(lambda p: csv_text([row(p), row(p, metric=MUNICIPAL)], ";")),
        rows=2,
    ),
    Case(
        "semicolon_decimal_comma.csv",
        "semicolon separator with decimal commas (European Excel)",
        text_file(lambda p: csv_text([row(p, value="12,5"), row(p, metric=MUNICIPAL)], ";")),
        row_rules={1: "decimal_comma"},
        rows=2,
        message_has=("12,5",),
    ),
    Case(
        "thousands_comma.csv",
        'thousands separator "1,234.5"',
        text_file(lambda p: csv_text([row(p, value="1,234.5"), row(p, metric=MUNICIPAL)])),
        row_rules={1: "thousands_separator"},
        rows=2,
        message_has=("1,234.5",),
    ),
    Case(
        "thousands_one_group.csv",
        '"212,400" kWh: one comma and three digits (a thousands separator, or a decimal comma)',
        text_file(
            lambda p: csv_text(
                [
                    row(p, metric="energy.electricity.grid", value="212,400", unit="kWh"),
                    row(p, metric=MUNICIPAL),
                ]
            )
        ),
        row_rules={1: "thousands_separator"},
        rows=2,
        message_has=("write 212400;", "write 212.400 (a value a thousand times smaller)"),
    ),
    Case(
        "thousands_space.csv",
        'thousands separator "1 234"',
        text_file(lambda p: csv_text([row(p, value="1 234"), row(p, metric=MUNICIPAL)])),
        row_rules={1: "thousands_separator"},
        rows=2,
        message_has=("1 234",),
    ),
    Case(
        "huge_numbers.csv",
        "1e308 (finite, too large), 1e308 MWh (overflows on conversion), 1e400 (not a finite number)",
        text_file(
            lambda p: csv_text(
                [
                    row(p, value="1e308"),
                    row(p, metric="energy.electricity.grid", value="1e308", unit="MWh"),
                    row(p, metric=MUNICIPAL, value="1e400"),
                    row(p, metric=GROUNDWATER),
                ]
            )
        ),
        row_rules={1: "implausible_value", 2: "implausible_value", 3: "not_a_number"},
        rows=4,
    ),
    Case(
        "nan_inf.csv",
        "NaN, inf, -Infinity as text",
        text_file(
            lambda p: csv_text(
                [
                    row(p, value="NaN"),
                    row(p, metric=MUNICIPAL, value="inf"),
                    row(p, metric=GROUNDWATER, value="-Infinity"),
                    row(p, metric="water.withdrawal.surface"),
                ]
            )
        ),
        row_rules={1: "not_a_number", 2: "not_a_number", 3: "not_a_number"},
        rows=4,
    ),
    Case(
        "negative.csv",
        "a negative quantity",
        text_file(lambda p: csv_text([row(p, value="-3"), row(p, metric=MUNICIPAL)])),
        row_rules={1: "negative_value"},
        rows=2,
    ),
    Case(
        "future.csv",
        "a period after the as-of date",
        text_file(lambda p: csv_text([row("2099-01"), row(p)])),
        row_rules={1: "future_period"},
        rows=2,
        message_has=("2099-01",),
    ),
    Case(
        "long_cell.csv",
        "a 1 MB comment on one line",
        text_file(lambda p: csv_text([row(p, comment="x" * MB), row(p, metric=MUNICIPAL)])),
        row_rules={1: "cell_too_long"},
        rows=2,
        message_has=("comment", "1,048,576"),
    ),
    Case(
        "formula_text.csv",
        "a spreadsheet formula typed into a CSV value",
        text_file(lambda p: csv_text([row(p, value="=SUM(A1:A3)"), row(p, metric=MUNICIPAL)])),
        row_rules={1: "formula_without_result"},
        rows=2,
        message_has=("=SUM(A1:A3)",),
    ),
    Case(
        "duplicate_header.csv",
        "a column named twice",
        text_file(lambda p: csv_text([[*row(p), "10"]], header=HEADER_LINE + ",value")),
        file_rule="duplicate_columns",
        message_has=("value",),
    ),
    Case(
        "blank_rows.csv",
        "empty rows in the middle",
        text_file(lambda p: csv_text([row(p)]) + "\n,,,,,,,\n\n" + ",".join(row(p, metric=MUNICIPAL)) + "\n"),
        rows=2,
    ),
    Case(
        "nul_byte.csv",
        "a NUL byte inside a cell",
        text_file(lambda p: csv_text([row(p), row(p, metric=MUNICIPAL, comment="a\0b")])),
        file_rule="encoding",
        message_has=("NUL", "line 3"),
    ),
    Case(
        "ragged.csv",
        "a short row and a long row",
        text_file(
            lambda p: (
                HEADER_LINE
                + "\n"
                + f"{FACILITY},{p},water.recycled\n"
                + ",".join(row(p, metric=MUNICIPAL))
                + ",surplus\n"
                + ",".join(row(p, metric=GROUNDWATER))
                + "\n"
            )
        ),
        row_rules={1: "required_missing", 2: "extra_cells"},
        rows=3,
    ),
    Case(
        "report..%2F..%2F..%2Fetc%2Fpasswd.csv",
        "a name that tries path traversal",
        text_file(lambda p: csv_text([row(p)])),
        rows=1,
    ),
    Case(
        "..%2F..%2Fetc%2Fpasswd.csv",
        "a name starting with a dot (a hidden file)",
        text_file(lambda p: csv_text([row(p)])),
        ingested=False,
    ),
    Case(
        "link_to_outside.csv",
        "a symbolic link to a file outside the inbox",
        _symlink_outside,
        ingested=False,
    ),
    Case(
        "line\nbreak\r\x1b[31m.csv",
        "a name with a newline, a carriage return and a terminal escape",
        text_file(lambda p: "not,a,submission\n"),
        file_rule="missing_columns",
    ),
    Case("formula_cached.xlsx", "a formula cell with the result Excel saved", _formula_cached, rows=1),
    Case(
        "formula_uncached.xlsx",
        "a formula cell without a saved result (written by a program)",
        xlsx_file(_formula_uncached),
        row_rules={1: "formula_without_result"},
        rows=2,
        message_has=("=5*2",),
    ),
    Case(
        "excel_dates.xlsx",
        "dates as date cells and as a serial number",
        xlsx_file(_excel_dates),
        row_rules={3: "bad_period_format"},
        rows=3,
    ),
    Case(
        "merged.xlsx",
        "facility_id merged across three rows",
        xlsx_file(_merged),
        row_rules={2: "required_missing", 3: "required_missing"},
        rows=3,
        message_has=("facility_id",),
    ),
    Case(
        "hidden_submission.xlsx",
        "the 'submission' sheet is hidden",
        xlsx_file(_hidden_submission),
        file_rule="hidden_submission_sheet",
        message_has=("hidden",),
    ),
    Case("hidden_other.xlsx", "another sheet is hidden", xlsx_file(_hidden_other_sheet), rows=1),
    Case(
        "zip_bomb.xlsx",
        "a workbook that expands 64 MB of zeros",
        _zip_bomb,
        file_rule="too_large",
        message_has=("zip bomb",),
    ),
    Case(
        "encrypted.xlsx",
        "a password-protected workbook",
        _encrypted,
        file_rule="encrypted_workbook",
        message_has=("password",),
    ),
    Case(
        "not_really.xlsx",
        "a text file named .xlsx",
        text_file(lambda p: "this is not a workbook\n"),
        file_rule="unreadable_format",
        message_has=("not_really.xlsx", "not a CSV, XLSX or JSON"),
    ),
    Case(
        "list.json",
        "JSON whose top level is a list",
        _json(lambda p: [_record(p)]),
        file_rule="bad_json",
        message_has=("list",),
    ),
    Case(
        "nested.json",
        "JSON nested 100,000 levels deep",
        _deeply_nested,
        file_rule="bad_json",
        message_has=("deep",),
    ),
    Case(
        "huge_string.json",
        "JSON with a 2 MB string value",
        _json(
            lambda p: {
                "records": [
                    _record(p, comment="y" * (2 * MB)),
                    _record(p, metric=MUNICIPAL),
                ]
            }
        ),
        row_rules={1: "cell_too_long"},
        rows=2,
    ),
    Case(
        "huge_integer.json",
        "JSON with a 5,000-digit integer",
        _huge_json_integer,
        row_rules={1: "not_a_number"},
        rows=1,
        message_has=("outside the range",),
    ),
    Case(
        "json_constants.json",
        "JSON NaN and Infinity literals",
        text_file(
            lambda p: (
                '{"records": ['
                + json.dumps(_record(p)).replace('"value": 10', '"value": NaN')
                + ","
                + json.dumps(_record(p, metric=MUNICIPAL)).replace('"value": 10', '"value": Infinity')
                + ","
                + json.dumps(_record(p, metric=GROUNDWATER))
                + "]}"
            )
        ),
        row_rules={1: "not_a_number", 2: "not_a_number"},
        rows=3,
    ),
    Case(
        "not_an_object.json",
        "a record that is a string, not an object",
        _json(lambda p: {"records": [_record(p), "row"]}),
        file_rule="bad_json",
        message_has=("record 2", "a string"),
    ),
    Case(
        "duplicate_key.json",
        "a record naming the same key twice (json would keep the last silently)",
        text_file(lambda p: '{"records": [' + json.dumps(_record(p))[:-1] + ', "VALUE": 11}]}'),
        file_rule="duplicate_columns",
        message_has=("record 1", "value"),
    ),
)

# Cases that Python reads but Arrow, DuckDB or UTF-8 cannot hold: each is a failure of its file only.
TEXT_CASES: tuple[Case, ...] = (
    Case(
        "surrogate.json",
        'an unpaired surrogate escape ("\\ud800") in a comment',
        text_file(
            lambda p: (
                '{"records": ['
                + json.dumps(_record(p, metric=MUNICIPAL))
                + ","
                + json.dumps(_record(p, comment="SURROGATE")).replace("SURROGATE", "\\ud800")
                + "]}"
            )
        ),
        file_rule="encoding",
        message_has=("record 2", "comment", "\\ud800"),
    ),
    Case(
        "surrogate_key.json",
        "an unpaired surrogate escape in a key",
        text_file(lambda p: '{"records": [' + json.dumps(_record(p))[:-1] + ', "note\\udc00": "x"}]}'),
        file_rule="encoding",
        message_has=("column name",),
    ),
    Case(
        "nul_escape.json",
        'a NUL character spelt as the escape "\\u0000" in a value',
        _json(lambda p: {"records": [_record(p, unit="m3\u0000")]}),
        file_rule="encoding",
        message_has=("record 1", "unit", "NUL"),
    ),
    Case(
        "bidi_override.csv",
        "right-to-left override characters in a comment and in a facility_id",
        text_file(
            lambda p: csv_text(
                [
                    row(p, comment="\u202eenilno\u202c checked"),
                    row(p, metric=MUNICIPAL, facility_id="\u202e" + FACILITY),
                ]
            )
        ),
        row_rules={2: "unknown_facility"},
        rows=2,
    ),
    Case(
        "cell_limit_comments.csv",
        "comments of exactly 32,767 characters (a spreadsheet cell's limit), with e-mail-like text",
        text_file(
            lambda p: csv_text(
                [
                    row(p, metric=metric, comment=(f"{index} a.b@c.de (+251) 911 " * 2000)[:32_767])
                    for index, metric in enumerate((MUNICIPAL, GROUNDWATER, "water.recycled"))
                ]
            )
        ),
        rows=3,
    ),
)


def _unpadded_day(period: str, day: int) -> str:
    year, month = (int(part) for part in period.split("-"))
    return f"{year}-{month}-{day}"


COD = "wastewater.cod"
CETP = "ET-HAW-C001"

# Cases where two spellings of one key must be one key: else accepted rows become two observations of
# one value (counted twice, or stopping every later release at the observation check).
KEY_CASES: tuple[Case, ...] = (
    Case(
        "sample_date_spellings.csv",
        "one wastewater sample twice, its date written 2021-3-5 and 2021-03-05",
        text_file(
            lambda p: csv_text(
                [
                    row(
                        p,
                        metric=COD,
                        value="40",
                        unit="mg/L",
                        facility_id=CETP,
                        sample_point="discharge",
                        sample_date=_unpadded_day(p, 5),
                    ),
                    row(
                        p,
                        metric=COD,
                        value="41",
                        unit="mg/L",
                        facility_id=CETP,
                        sample_point="discharge",
                        sample_date=f"{p}-05",
                    ),
                    row(
                        p,
                        metric=COD,
                        value="30",
                        unit="mg/L",
                        facility_id=CETP,
                        sample_point="raw",
                        sample_date=_unpadded_day(p, 6),
                    ),
                ]
            )
        ),
        row_rules={1: "duplicate_in_file", 2: "duplicate_in_file"},
        rows=3,
    ),
    Case(
        "sample_on_energy.csv",
        "an energy row twice, once with sample_point raw (the sample would make it a second value)",
        text_file(
            lambda p: csv_text(
                [
                    row(p, metric="energy.electricity.grid", value="100000", unit="kWh"),
                    row(p, metric="energy.electricity.grid", value="100000", unit="kWh", sample_point="raw"),
                    row(p, metric=MUNICIPAL, sample_date=f"{p}-03"),
                ]
            )
        ),
        row_rules={1: "duplicate_in_file", 2: "sample_not_applicable", 3: "sample_not_applicable"},
        rows=3,
        message_has=('sample_point = "raw"', "energy.electricity.grid", "sample_date"),
    ),
)


def _three_rows(workbook: openpyxl.Workbook, period: str) -> None:
    for metric in ("water.recycled", MUNICIPAL, GROUNDWATER):
        workbook["submission"].append(row(period, metric=metric))


def _edited_sheet(edit: Callable[[str], str], fill: Callable[[openpyxl.Workbook, str], None] = _three_rows):
    """A workbook whose sheet XML is changed after openpyxl wrote it (as another program might write it)."""

    def build(path: Path, period: str) -> None:
        source = zipfile.ZipFile(io.BytesIO(workbook_bytes(fill, period)))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                content = source.read(item.filename)
                if item.filename == "xl/worksheets/sheet1.xml":
                    content = edit(content.decode("utf-8")).encode("utf-8")
                target.writestr(item, content)
        path.write_bytes(out.getvalue())

    return build


def _row_element(xml: str, number: int) -> str:
    start = xml.index(f'<row r="{number}"')
    return xml[start : xml.index("</row>", start) + len("</row>")]


def _swap_rows(xml: str) -> str:
    second, third = _row_element(xml, 2), _row_element(xml, 3)
    return xml.replace(second + third, third + second)


def _repeat_row_number(xml: str) -> str:
    third = _row_element(xml, 3)
    return xml.replace(third, third.replace('r="3"', 'r="2"').replace('3"', '2"'))


def _declare_whole_sheet(xml: str) -> str:
    assert '<dimension ref="A1:H4" />' in xml, "openpyxl changed how it writes the dimension"
    return xml.replace('<dimension ref="A1:H4" />', '<dimension ref="A1:XFD1048576" />')


def _two_submission_sheets(path: Path, period: str) -> None:
    def fill(workbook: openpyxl.Workbook, period: str) -> None:
        workbook["submission"].append(row(period))
        stale = workbook.create_sheet("STALE")
        stale.append(list(HEADER))
        stale.append(row(period, value="99"))

    # openpyxl refuses two titles differing only in case; other programs write them, so rename after.
    source = zipfile.ZipFile(io.BytesIO(workbook_bytes(fill, period)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/workbook.xml":
                assert b'name="STALE"' in content, "openpyxl changed how it writes sheet names"
                content = content.replace(b'name="STALE"', b'name="SUBMISSION"')
            target.writestr(item, content)
    path.write_bytes(out.getvalue())


def _open_quote(period: str) -> str:
    lines = [",".join(row(period, metric=m)) for m in (MUNICIPAL, GROUNDWATER, "water.recycled")]
    return (
        HEADER_LINE
        + "\n"
        + ",".join(row(period, metric="water.withdrawal.surface"))
        + '"pump broken, see\n'
        + "\n".join(lines)
        + '"\n'
    )


# Files that lose rows or take minutes unless read with care: each is read whole and right, or rejected
# naming the line, in time linear in its size (benchmarks/hostile_bounds.py prints the figures).
BOUND_CASES: tuple[Case, ...] = (
    Case(
        "open_quote.csv",
        "a quote opened in a comment and closed three lines later (the rows between would be one cell)",
        text_file(_open_quote),
        file_rule="unreadable_format",
        message_has=("line 2", "line 5", "look like rows"),
    ),
    Case(
        "multiline_comment.csv",
        "a quoted comment of three lines of prose",
        text_file(lambda p: csv_text([row(p, comment="pump broken\nreplaced on the 5th\nmeter read after")])),
        rows=1,
    ),
    Case(
        "overlong_multiline_comment.csv",
        "a quoted comment spanning 25 lines",
        text_file(lambda p: csv_text([row(p, comment="\n".join(f"note {i}" for i in range(25)))])),
        file_rule="unreadable_format",
        message_has=("line 2", "25 lines", "more than the 20 lines"),
    ),
    Case(
        "rows_out_of_order.xlsx",
        "a workbook whose rows are stored 1, 3, 2, 4",
        _edited_sheet(_swap_rows),
        file_rule="unreadable_format",
        message_has=("row 2", "after row 3"),
    ),
    Case(
        "row_repeated.xlsx",
        "a workbook storing row 2 twice",
        _edited_sheet(_repeat_row_number),
        file_rule="unreadable_format",
        message_has=("row 2", "second time"),
    ),
    Case(
        "declared_whole_sheet.xlsx",
        "a 2 KB workbook declaring the dimension A1:XFD1048576",
        _edited_sheet(_declare_whole_sheet),
        rows=3,
    ),
    Case(
        "two_submission_sheets.xlsx",
        "sheets named 'submission' and 'SUBMISSION'",
        _two_submission_sheets,
        file_rule="ambiguous_submission_sheet",
        message_has=("'submission'", "'SUBMISSION'"),
    ),
    Case(
        "many_keys.json",
        "a record with 150,000 keys (1.8 MB)",
        _json(lambda p: {"records": [{**_record(p), **{f"k{i}": 1 for i in range(150_000)}}]}),
        file_rule="too_large",
        message_has=("150,005 keys", "256"),
    ),
    Case(
        "unterminated_escapes.json",
        "120 KB of escaped quotes in a string that never ends",
        text_file(lambda p: '{"records": [{"comment": "' + '\\"' * 60_000),
        file_rule="bad_json",
        message_has=("Unterminated string",),
    ),
    Case(
        "records_twice.json",
        'a document naming "records" twice (json would keep the last list)',
        text_file(
            lambda p: (
                '{"records": ['
                + json.dumps(_record(p))
                + '], "records": ['
                + json.dumps(_record(p, metric=MUNICIPAL))
                + "]}"
            )
        ),
        file_rule="duplicate_columns",
        message_has=('"records"',),
    ),
    Case(
        "wide_header.csv",
        "a header of 300 columns",
        text_file(
            lambda p: csv_text([row(p)], header=HEADER_LINE + "," + ",".join(f"extra{i}" for i in range(292)))
        ),
        file_rule="too_large",
        message_has=("300 columns",),
    ),
)


def _lines(rows: list[list[str]], separator: str, line_end: str) -> str:
    return line_end.join(separator.join(cells) for cells in [list(HEADER), *rows]) + line_end


# Values that must not be published as written, and separators the report names.
SMALL_CASES: tuple[Case, ...] = (
    Case(
        "future_sample_date.csv",
        "a wastewater sample dated 2099-12-31",
        text_file(
            lambda p: csv_text(
                [
                    row(
                        p,
                        metric=COD,
                        value="40",
                        unit="mg/L",
                        facility_id=CETP,
                        sample_point="discharge",
                        sample_date="2099-12-31",
                    ),
                    row(p, metric=MUNICIPAL),
                ]
            )
        ),
        row_rules={1: "future_sample_date"},
        rows=2,
        message_has=("2099-12-31",),
    ),
    Case(
        "underflow.csv",
        "1e-400, which a double would store as 0",
        text_file(lambda p: csv_text([row(p, value="1e-400"), row(p, metric=MUNICIPAL, value="0e-400")])),
        row_rules={1: "not_a_number"},
        rows=2,
        message_has=("too close to zero",),
    ),
    Case(
        "cr_only_semicolon.csv",
        "semicolons, lines ended by a carriage return alone (old Mac files)",
        text_file(lambda p: _lines([row(p), row(p, metric=MUNICIPAL)], ";", "\r")),
        rows=2,
    ),
    Case(
        "markup_in_cells.csv",
        "HTML and Markdown in submitted cells (a script tag, a link, a table separator)",
        text_file(
            lambda p: csv_text(
                [
                    row(p, facility_id="<script>alert(1)</script>", comment="[x](javascript:alert(1))"),
                    row(p, metric=MUNICIPAL, unit="m3 | <b>bold</b>"),
                ]
            )
        ),
        row_rules={1: "unknown_facility", 2: "unit_not_accepted"},
        rows=2,
    ),
    Case(
        "tab_separated.csv",
        "tab-separated text saved as .csv",
        text_file(lambda p: _lines([row(p)], "\t", "\n")),
        file_rule="missing_columns",
        message_has=("tab characters",),
    ),
    Case(
        "excel_sep_line.csv",
        "Excel's 'sep=;' first line above the header",
        text_file(lambda p: "sep=;\n" + _lines([row(p)], ";", "\n")),
        file_rule="missing_columns",
        message_has=("'sep=;'", "delete that line"),
    ),
)

CASES = CASES + TEXT_CASES + KEY_CASES + BOUND_CASES + SMALL_CASES


def build_corpus(inbox: Path) -> dict[str, Case]:
    """Write every case into `inbox`; return the cases by file name."""
    inbox.mkdir(parents=True, exist_ok=True)
    for index, case in enumerate(CASES):
        case.build(inbox / case.name, period_for(index))
    return {case.name: case for case in CASES}


def valid_csv(period: str = "2024-01") -> str:
    """A file that must be accepted whole, whatever else is in the inbox."""
    lines = [
        f"{VALID_FACILITY},{period},water.recycled,120,m3,,,",
        f"{VALID_FACILITY},{period},water.withdrawal.municipal,900,m3,,,",
        f"{VALID_FACILITY},{period},energy.electricity.grid,52000,kWh,,,",
    ]
    return HEADER_LINE + "\n" + "\n".join(lines) + "\n"
