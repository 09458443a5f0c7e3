"""Properties of reading and ingesting arbitrary input: no crash, no lost row, one state per row.

The readers are called without the safety net of `read_submission` (`read_by_format`), so a defect shows
up as an error here instead of as an "unreadable" verdict. Example counts stay small for a shared
machine; `tests/fuzz/fuzz_readers.py` runs the long mutation loop.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from instep.ingest import stage_new_files
from instep.readers import SUBMISSION_COLUMNS, SubmissionTable, UnreadableFile, read_by_format
from instep.registry import load_registry, read_registry
from instep.validate import row_state_counts, settle_staged_rows
from instep.warehouse import LEDGER_DDL
from tests.conftest import AS_OF, write_registry
from tests.fuzz import fuzz_readers

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
INGEST = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Cells a factory (or a broken program) might send: good values, near misses and garbage.
FACILITIES = st.sampled_from(["ET-HAW-F001", "ET-HAW-C001", "VN-TST-F001", "ET-HAW-F009", "", " "])
PERIODS = st.sampled_from(["2024-01", "2024-13", "2099-01", "2024-1", "２０２４-01", "2024-01\n", ""])
METRICS = st.sampled_from(["water.recycled", "energy.electricity.grid", "wastewater.cod", "bogus", ""])
VALUES = st.one_of(
    st.sampled_from(["10", "1,5", "1,234.5", "1 234", "1.2.3", "1e308", "1e400", "-3", "<0.1", "=A1", "NaN"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
    st.text(max_size=12),
)
UNITS = st.sampled_from(["m3", "kWh", "MWh", "mg/L", "litres", ""])
CELL = st.text(max_size=20)
ROW = st.fixed_dictionaries(
    {
        "facility_id": FACILITIES,
        "period": PERIODS,
        "metric": METRICS,
        "value": VALUES,
        "unit": UNITS,
        "sample_point": st.sampled_from(["", "discharge", "raw", "nowhere"]),
        "sample_date": st.sampled_from(["", "2024-01-20", "2023-12-31", "20/01/2024"]),
        "comment": CELL,
    }
)


def read_bytes(data: bytes, suffix: str) -> SubmissionTable | UnreadableFile:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / f"submission{suffix}"
        path.write_bytes(data)
        try:
            return read_by_format(path)
        except UnreadableFile as error:
            return error


def assert_well_formed(table: SubmissionTable) -> None:
    assert len(table) > 0
    assert table.row_numbers == sorted(set(table.row_numbers))
    for name in SUBMISSION_COLUMNS:
        assert len(table.columns[name]) == len(table)
    assert len(table.extra_cells) == len(table)


@FAST
@given(data=st.binary(max_size=2048), suffix=st.sampled_from([".csv", ".json", ".xlsx", ".txt", ""]))
def test_arbitrary_bytes_give_rows_or_an_unreadable_verdict(data: bytes, suffix: str):
    result = read_bytes(data, suffix)
    if isinstance(result, UnreadableFile):
        assert result.rule and result.message
    else:
        assert_well_formed(result)


@FAST
@given(
    header_extra=st.lists(CELL, max_size=2),
    rows=st.lists(st.lists(CELL, max_size=10), max_size=8),
    delimiter=st.sampled_from([",", ";"]),
    bom=st.booleans(),
)
def test_arbitrary_csv_text_keeps_every_non_blank_row(header_extra, rows, delimiter, bom):
    header = list(SUBMISSION_COLUMNS) + header_extra
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    text = ("\ufeff" if bom else "") + buffer.getvalue()
    result = read_bytes(text.encode("utf-8"), ".csv")
    non_blank = [cells for cells in rows if any(cell.strip() for cell in cells)]
    if isinstance(result, UnreadableFile):
        # Only whole-file reasons that the text can actually have.
        assert result.rule in {"empty_file", "duplicate_columns", "encoding", "missing_columns"}, (
            result.message
        )
        return
    assert_well_formed(result)
    assert len(result) == len(non_blank)


@FAST
@given(rows=st.lists(ROW, min_size=1, max_size=8))
def test_csv_cells_round_trip_as_submitted_text(rows):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SUBMISSION_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    result = read_bytes(buffer.getvalue().encode("utf-8"), ".csv")
    kept = [row for row in rows if any(cell.strip() for cell in row.values())]
    if not kept:
        assert isinstance(result, UnreadableFile) and result.rule == "empty_file"
        return
    if isinstance(result, UnreadableFile):
        assert result.rule == "encoding" and "NUL" in result.message
        return
    for index, row in enumerate(kept):
        assert {name: result.columns[name][index] for name in SUBMISSION_COLUMNS} == row


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)


@FAST
@given(
    document=st.one_of(JSON_VALUES, st.builds(lambda r: {"records": r}, st.lists(JSON_VALUES, max_size=4)))
)
def test_arbitrary_json_gives_rows_or_an_unreadable_verdict(document):
    result = read_bytes(json.dumps(document).encode("utf-8"), ".json")
    if isinstance(result, UnreadableFile):
        assert result.rule in {"bad_json", "empty_file", "missing_columns", "duplicate_columns", "encoding"}
    else:
        assert_well_formed(result)
        assert len(result) == len(document["records"])


def ingest_files(files: list[tuple[str, bytes]], scratch: Path) -> duckdb.DuckDBPyConnection:
    paths = []
    for index, (suffix, data) in enumerate(files):
        path = scratch / f"file-{index}{suffix}"
        path.write_bytes(data)
        paths.append(path)
    con = duckdb.connect(":memory:")
    con.execute(LEDGER_DDL)
    load_registry(con, read_registry(write_registry(scratch / "registry")))
    stage_new_files(con, scratch, scratch / "archive", files=paths)
    settle_staged_rows(con, AS_OF)
    return con


def assert_ledger_adds_up(con: duckdb.DuckDBPyConnection, expected_files: int) -> None:
    per_file = row_state_counts(con).fetchall()
    assert len(per_file) == expected_files
    for _, name, status, rows_read, accepted, rejected, superseded in per_file:
        assert accepted + rejected + superseded == rows_read, name
        assert status in {"ingested", "unreadable"}
    states = con.execute("SELECT count(*), count(DISTINCT (submission_id, row_number)) FROM submission_rows")
    total, distinct = states.fetchall()[0]
    assert total == distinct == sum(row[3] for row in per_file)
    accepted_rows = con.execute("SELECT count(*) FROM submission_rows WHERE state = 'accepted'").fetchall()
    assert con.execute("SELECT count(*) FROM observations").fetchall() == accepted_rows
    assert con.execute("SELECT count(*) FROM staged_rows").fetchall() == [(0,)]
    rejected_without_reason = con.execute(
        "SELECT count(*) FROM submission_rows WHERE state = 'rejected' AND (rule IS NULL OR message IS NULL)"
    ).fetchall()
    assert rejected_without_reason == [(0,)]


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SUBMISSION_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


@INGEST
@given(
    files=st.lists(st.lists(ROW, min_size=1, max_size=10), min_size=1, max_size=4),
    garbage=st.binary(max_size=300),
)
def test_ingesting_arbitrary_rows_settles_every_row_in_exactly_one_state(files, garbage):
    inputs = [(".csv", csv_bytes(rows)) for rows in files] + [(".csv", garbage)]
    distinct = len({data for _, data in inputs})  # identical content is one submission
    with tempfile.TemporaryDirectory(prefix="instep-props-") as scratch:
        con = ingest_files(inputs, Path(scratch))
        try:
            assert_ledger_adds_up(con, distinct)
        finally:
            con.close()


def test_fuzz_target_finds_no_crash_in_a_short_run(tmp_path: Path):
    outcomes = fuzz_readers.run(iterations=300, seed=20261125, crash_dir=tmp_path / "crashes")
    assert outcomes["crash"] == 0
    assert outcomes["rows"] > 0


@pytest.mark.slow
def test_fuzz_target_long_run_with_ingestion(tmp_path: Path):
    for seed in range(3):
        outcomes = fuzz_readers.run(
            iterations=2000, seed=seed, crash_dir=tmp_path / "crashes", ingest_every=200
        )
        assert outcomes["crash"] == 0, f"seed {seed}: see {tmp_path / 'crashes'}"


# Any code point, surrogates included (Hypothesis leaves them out by default), and the characters most
# likely to break a later stage: NUL, bidirectional overrides, quotes and Markdown or HTML markup.
ANY_CHARACTER = st.characters(codec=None, exclude_categories=())
HOSTILE_TEXT = st.one_of(
    st.text(ANY_CHARACTER, max_size=12),
    st.sampled_from(["\ud800", "a\x00b", "\u202eabc\u202c", "<b>x</b>|`*", "\U0001f600", "\r\n"]),
    st.integers(32_700, 32_800).map(lambda n: "é" * n),
)
HOSTILE_RECORD = st.builds(
    lambda cells, extra: {**extra, **cells},
    st.fixed_dictionaries(
        {
            "facility_id": FACILITIES | HOSTILE_TEXT,
            "period": PERIODS | HOSTILE_TEXT,
            "metric": METRICS,
            "value": VALUES | HOSTILE_TEXT,
            "unit": UNITS | HOSTILE_TEXT,
            "comment": HOSTILE_TEXT,
        },
        optional={"sample_point": HOSTILE_TEXT},
    ),
    st.dictionaries(HOSTILE_TEXT, HOSTILE_TEXT, max_size=1),  # a column of any name
)


@INGEST
@given(records=st.lists(HOSTILE_RECORD, min_size=1, max_size=4), as_csv=st.booleans())
def test_arbitrary_unicode_through_the_whole_chain_leaves_the_valid_file_accepted(records, as_csv):
    from tests.hostile_corpus import VALID_FACILITY, valid_csv

    if as_csv:
        # A CSV holds only what UTF-8 can encode; the rest is what a broken program writes anyway.
        rows = [{name: record.get(name, "") for name in SUBMISSION_COLUMNS} for record in records]
        buffer = io.StringIO()
        csv.DictWriter(buffer, fieldnames=SUBMISSION_COLUMNS, lineterminator="\r\n").writerows(rows)
        hostile = ",".join(SUBMISSION_COLUMNS) + "\r\n" + buffer.getvalue()
        data = hostile.encode("utf-8", "surrogatepass")
    else:
        data = json.dumps({"records": records}).encode("utf-8")  # surrogates become "\ud800" escapes
    inputs = [(".csv" if as_csv else ".json", data), (".csv", valid_csv().encode("utf-8"))]
    with tempfile.TemporaryDirectory(prefix="instep-props-") as scratch:
        con = ingest_files(inputs, Path(scratch))
        try:
            assert_ledger_adds_up(con, 2)
            valid = con.execute(
                "SELECT count(*) FROM observations WHERE facility_id = ?", [VALID_FACILITY]
            ).fetchall()
            assert valid == [(3,)]
            from instep.report import render_report, verdicts_from_warehouse

            for verdict in verdicts_from_warehouse(con):
                render_report(verdict).encode("utf-8")
        finally:
            con.close()
