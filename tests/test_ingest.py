"""Ingestion ledger: every row in exactly one state, restatements, no-op re-ingest, whole-file rejects."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pytest

from instep.ingest import stage_new_files
from instep.registry import load_registry, read_registry
from instep.settings import Settings
from instep.validate import row_state_counts, settle_staged_rows
from instep.warehouse import connect

HEADER = "facility_id,period,metric,value,unit,sample_point,sample_date,comment\n"

# One row per rule, each with exactly one fault, and the rule it must be rejected under.
FAULTY_ROWS = [
    ("ET-HAW-F001,2024-01,energy.electricity.solar_onsite,120000,MWh,,,", "implausible_value"),
    ("ET-HAW-F001,2024-01,wastewater.cod,120,mg/L,,2024-01-20,", "sample_point_missing"),
    ("ET-HAW-F009,2024-01,water.recycled,10,m3,,,", "unknown_facility"),
    ("ET-HAW-F001,2062-03,water.recycled,10,m3,,,", "future_period"),
    ("ET-HAW-F001,03/2024,water.recycled,10,m3,,,", "bad_period_format"),
    ("ET-HAW-F001,2024-01,water.withdrawal.municipal,n/a,m3,,,", "not_a_number"),
    ("ET-HAW-F001,2024-01,water.withdrawal.groundwater,-5,m3,,,", "negative_value"),
    ("ET-HAW-F001,2024-01,water.bogus,5,m3,,,", "unknown_metric"),
    ("ET-HAW-F001,2024-01,energy.fuel.coal,5,litres,,,", "unit_not_accepted"),
    ("ET-HAW-F002,2024-08,energy.fuel.coal,5,t,,,", "facility_inactive"),
    ("ET-HAW-F001,2024-01,production.output_mass,<5,kg,,,", "censored_not_allowed"),
    ("ET-HAW-F001,2024-01,production.output_pieces,1e999,pcs,,,", "not_a_number"),
    ("ET-HAW-F001,2024-01,energy.fuel.lpg,,kg,,,", "required_missing"),
    ("ET-HAW-C001,2024-01,wastewater.cod,120,mg/L,discharge,2023-12-31,", "sample_date_invalid"),
    ('ET-HAW-F001,2024-01,energy.fuel.lpg,"1,5",kg,,,', "decimal_comma"),
]
GOOD_ROWS = [
    "ET-HAW-F001,2024-01,energy.electricity.grid,120000,kWh,,,",
    "ET-HAW-F001,2024-01,energy.fuel.diesel,850,L,,,",
    "ET-HAW-C001,2024-01,wastewater.chromium_vi,<0.01,mg/L,discharge,2024-01-20,",
    "ET-HAW-C001,2024-01,wastewater.cod,5,g/m3,discharge,2024-01-20,",
]


def ingest(settings: Settings) -> None:
    with connect(settings) as con:
        load_registry(con, read_registry(settings.registry_dir))
        stage_new_files(con, settings.inbox_dir, settings.archive_dir)
        settle_staged_rows(con, settings.as_of)


def ledger(settings: Settings) -> list[tuple]:
    with connect(settings) as con:
        return con.execute(
            "SELECT submission_id, row_number, state, rule, superseded_by FROM submission_rows "
            "ORDER BY submission_id, row_number"
        ).fetchall()


def test_each_faulty_row_is_rejected_under_its_rule_and_good_rows_accepted(workspace: Settings):
    body = "".join(row + "\n" for row, _ in FAULTY_ROWS) + "".join(row + "\n" for row in GOOD_ROWS)
    (workspace.inbox_dir / "2024-02-10_mixed.csv").write_text(HEADER + body, encoding="utf-8")
    ingest(workspace)
    with connect(workspace) as con:
        states = con.execute(
            "SELECT row_number, state, rule, message FROM submission_rows ORDER BY row_number"
        ).fetchall()
        observations = con.execute(
            "SELECT metric, value, unit, censored FROM observations ORDER BY metric"
        ).fetchall()
    expected_rules = [rule for _, rule in FAULTY_ROWS]
    assert [(row, state, rule) for row, state, rule, _ in states[: len(FAULTY_ROWS)]] == [
        (number, "rejected", rule) for number, rule in enumerate(expected_rules, start=1)
    ]
    assert all(state == "accepted" for _, state, _, _ in states[len(FAULTY_ROWS) :])
    assert all(message for _, state, _, message in states if state == "rejected")
    assert observations == [
        ("energy.electricity.grid", 120000.0, "kWh", False),
        ("energy.fuel.diesel", 850.0, "L", False),
        ("wastewater.chromium_vi", 0.01, "mg/L", True),
        ("wastewater.cod", 5.0, "mg/L", False),
    ]


def test_wrong_unit_message_explains_the_conversion(workspace: Settings):
    (workspace.inbox_dir / "a.csv").write_text(HEADER + FAULTY_ROWS[0][0] + "\n", encoding="utf-8")
    ingest(workspace)
    with connect(workspace) as con:
        value, expected, message = con.execute(
            "SELECT value, expected, message FROM row_issues WHERE rule = 'implausible_value'"
        ).fetchall()[0]
    assert value == "120000"
    assert "10,000,000" in expected and "kWh" in expected
    assert "120000 MWh is 120,000,000" in message and "check the unit" in message


def test_duplicated_rows_in_a_file_are_both_rejected(workspace: Settings):
    row = GOOD_ROWS[0] + "\n"
    (workspace.inbox_dir / "dup.csv").write_text(HEADER + row + row, encoding="utf-8")
    ingest(workspace)
    assert [(state, rule) for _, _, state, rule, _ in ledger(workspace)] == [
        ("rejected", "duplicate_in_file"),
        ("rejected", "duplicate_in_file"),
    ]


def test_restatement_supersedes_the_earlier_value_and_keeps_it(workspace: Settings):
    first = workspace.inbox_dir / "2024-02-10_first.csv"
    first.write_text(HEADER + GOOD_ROWS[1] + "\n" + GOOD_ROWS[0] + "\n", encoding="utf-8")
    ingest(workspace)
    restated = workspace.inbox_dir / "2024-05-02_restated.csv"
    restated.write_text(
        HEADER + "ET-HAW-F001,2024-01,energy.fuel.diesel,950,L,,,restated\n", encoding="utf-8"
    )
    ingest(workspace)
    rows = ledger(workspace)
    states = {(state, rule) for _, _, state, rule, _ in rows}
    assert states == {("superseded", None), ("accepted", None)}
    superseded = [r for r in rows if r[2] == "superseded"]
    assert len(superseded) == 1 and superseded[0][4] is not None
    with connect(workspace) as con:
        assert con.execute(
            "SELECT value, submitted_value FROM observations WHERE metric = 'energy.fuel.diesel'"
        ).fetchall() == [(950.0, "950")]
        kept = con.execute("SELECT value FROM submission_rows WHERE state = 'superseded'").fetchall()
    assert kept == [("850",)]


def test_restatement_inside_one_batch_is_decided_by_file_order(workspace: Settings):
    (workspace.inbox_dir / "2024-02-10_a.csv").write_text(HEADER + GOOD_ROWS[1] + "\n", encoding="utf-8")
    (workspace.inbox_dir / "2024-03-10_b.csv").write_text(
        HEADER + "ET-HAW-F001,2024-01,energy.fuel.diesel,900,L,,,\n", encoding="utf-8"
    )
    ingest(workspace)
    with connect(workspace) as con:
        assert con.execute("SELECT submitted_value FROM observations").fetchall() == [("900",)]
        assert con.execute(
            "SELECT f.original_name, r.state FROM submission_rows r "
            "JOIN submission_files f USING (submission_id) ORDER BY f.original_name"
        ).fetchall() == [("2024-02-10_a.csv", "superseded"), ("2024-03-10_b.csv", "accepted")]


def test_reingesting_the_same_inbox_changes_nothing(workspace: Settings):
    (workspace.inbox_dir / "a.csv").write_text(
        HEADER + "".join(r + "\n" for r in GOOD_ROWS), encoding="utf-8"
    )
    (workspace.inbox_dir / "b.csv").write_text(HEADER + FAULTY_ROWS[2][0] + "\n", encoding="utf-8")
    ingest(workspace)
    before = ledger(workspace)
    # A renamed copy of a known file is the same submission: still a no-op.
    (workspace.inbox_dir / "a-copy.csv").write_bytes((workspace.inbox_dir / "a.csv").read_bytes())
    ingest(workspace)
    assert ledger(workspace) == before
    with connect(workspace) as con:
        assert con.execute("SELECT count(*) FROM submission_files").fetchall() == [(2,)]


def _xlsx_bytes(sheet_name: str, rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = sheet_name
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_unreadable_files_are_rejected_whole_and_the_rest_is_ingested(workspace: Settings):
    inbox = workspace.inbox_dir
    (inbox / "good.csv").write_text(HEADER + GOOD_ROWS[0] + "\n", encoding="utf-8")
    (inbox / "report.pdf").write_bytes(b"%PDF-1.4\n\x00\x01\x02 binary content")
    (inbox / "empty.csv").write_bytes(b"")
    (inbox / "columns.csv").write_text("facility_id,period,value\nET-HAW-F001,2024-01,5\n", encoding="utf-8")
    (inbox / "nosheet.xlsx").write_bytes(_xlsx_bytes("Sheet1", [list(HEADER.strip().split(","))]))
    ingest(workspace)
    with connect(workspace) as con:
        files = dict(
            (name, (status, rule))
            for name, status, rule in con.execute(
                "SELECT original_name, status, rule FROM submission_files"
            ).fetchall()
        )
        accepted = con.execute("SELECT count(*) FROM observations").fetchall()[0][0]
    assert files == {
        "good.csv": ("ingested", None),
        "report.pdf": ("unreadable", "unreadable_format"),
        "empty.csv": ("unreadable", "empty_file"),
        "columns.csv": ("unreadable", "missing_columns"),
        "nosheet.xlsx": ("unreadable", "missing_submission_sheet"),
    }
    assert accepted == 1


def test_xlsx_and_json_submissions_are_read_like_csv(workspace: Settings):
    header = HEADER.strip().split(",")
    rows = [row.split(",") for row in GOOD_ROWS]
    (workspace.inbox_dir / "a.xlsx").write_bytes(
        _xlsx_bytes(
            "submission",
            [header, *[[float(c) if c.replace(".", "").isdigit() else c for c in r] for r in rows]],
        )
    )
    records = [dict(zip(header, row, strict=True)) for row in rows]
    for record in records:
        record["period"] = "2024-02"
        if record["sample_date"]:
            record["sample_date"] = "2024-02-20"
    (workspace.inbox_dir / "b.json").write_text(json.dumps({"records": records}), encoding="utf-8")
    ingest(workspace)
    with connect(workspace) as con:
        assert con.execute("SELECT state, count(*) FROM submission_rows GROUP BY state").fetchall() == [
            ("accepted", 8)
        ]
        assert con.execute(
            "SELECT submitted_value FROM observations "
            "WHERE period = '2024-01' AND metric = 'energy.fuel.diesel'"
        ).fetchall() == [("850",)]


def test_states_add_up_per_file(workspace: Settings):
    body = "".join(row + "\n" for row, _ in FAULTY_ROWS) + "".join(row + "\n" for row in GOOD_ROWS)
    (workspace.inbox_dir / "a.csv").write_text(HEADER + body, encoding="utf-8")
    (workspace.inbox_dir / "b.csv").write_text(
        HEADER + GOOD_ROWS[1].replace("850", "860") + "\n", encoding="utf-8"
    )
    ingest(workspace)
    with connect(workspace) as con:
        per_file = row_state_counts(con).fetchall()
    for _, _, _, rows_read, accepted, rejected, superseded in per_file:
        assert accepted + rejected + superseded == rows_read
    assert sum(row[3] for row in per_file) == len(FAULTY_ROWS) + len(GOOD_ROWS) + 1


@pytest.mark.parametrize("name", ["a.csv"])
def test_archive_keeps_the_raw_bytes_by_content_hash(workspace: Settings, name: str):
    raw = (HEADER + GOOD_ROWS[0] + "\n").encode("utf-8")
    (workspace.inbox_dir / name).write_bytes(raw)
    ingest(workspace)
    archived = list(workspace.archive_dir.iterdir())
    assert len(archived) == 1
    assert archived[0].read_bytes() == raw
    import hashlib

    assert archived[0].name == hashlib.sha256(raw).hexdigest() + ".csv"


def test_reports_name_files_but_no_path_of_the_machine(workspace: Settings, tmp_path: Path):
    # Reports go back to factories: they name the file as it was sent, never where the workspace, the
    # inbox or the archive lie. A valid file, one with rejected rows and two rejected as a whole are
    # ingested from the inbox and reported as the pipeline reports them.
    from instep.report import verdicts_from_warehouse, write_reports

    files = {
        "valid.csv": HEADER + GOOD_ROWS[0] + "\n",
        "faulty.csv": HEADER + "".join(row + "\n" for row, _ in FAULTY_ROWS),
        "nocolumns.csv": "a,b\n1,2\n",
        "damaged.xlsx": "PK\x03\x04 not a workbook",
    }
    for name, text in files.items():
        (workspace.inbox_dir / name).write_text(text, encoding="utf-8")
    ingest(workspace)
    with connect(workspace) as con:
        verdicts = verdicts_from_warehouse(con)
    reports = write_reports(verdicts, workspace.reports_dir)
    assert sorted(v.file_name for v in verdicts) == sorted(files)
    assert {v.exit_code for v in verdicts} == {0, 1, 2}
    for verdict, report in zip(verdicts, reports, strict=True):
        text = report.read_text(encoding="utf-8")
        assert verdict.file_name in text
        for path in (tmp_path, workspace.inbox_dir, workspace.archive_dir):
            assert str(path) not in text, (report.name, path)
