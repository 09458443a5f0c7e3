"""The review queue (`reports/index.md`, `index.html`) and report names a person recognises."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import dagster as dg

from assets.resources import InstepWorkspace
from assets.validate import submission_reports
from instep.report import SubmissionVerdict, report_file_name
from instep.reports_folder import FOLDER_STATE, ReportsUpdate, update_reports
from instep.settings import Settings
from instep.warehouse import connect
from tests.test_ingest import FAULTY_ROWS, GOOD_ROWS, HEADER, ingest, ledger

MARKDOWN_LINK = re.compile(r"\[report\]\(([^)]+)\)")


def drop(settings: Settings, name: str, rows: list[str]) -> None:
    (settings.inbox_dir / name).write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    ingest(settings)


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hrefs += [v or "" for k, v in attrs if tag == "a" and k == "href"]


def test_a_file_with_rejected_rows_tops_the_queue_with_a_working_link(workspace: Settings):
    drop(workspace, "january.csv", GOOD_ROWS)
    # rejected rows with another facility's id and a mistyped year: neither names the file
    drop(workspace, "March Energy.csv", [row for row, _ in FAULTY_ROWS[:4]] + GOOD_ROWS[:1])
    (workspace.inbox_dir / "scan.pdf").write_bytes(b"%PDF-1.4\x00\x01")
    ingest(workspace)
    drop(workspace, "april.csv", [GOOD_ROWS[1].replace("2024-01", "2024-04")])

    result = dg.materialize(
        [submission_reports], resources={"instep": InstepWorkspace.from_settings(workspace)}
    )
    metadata = result.asset_materializations_for_node(submission_reports.op.name)[0].metadata
    index = Path(metadata["review_queue"].value)
    assert index == workspace.reports_dir / "index.md"
    assert Path(metadata["review_queue_html"].value) == workspace.reports_dir / "index.html"

    text = index.read_text(encoding="utf-8")
    attention, rest = text.split("## Needs attention (2)")[1].split("## No rows rejected (2)")
    rows = [line for line in attention.splitlines() if MARKDOWN_LINK.search(line)]
    # newest first within each group: the unreadable scan came after the March file
    assert "scan.pdf" in rows[0] and "file unreadable" in rows[0]
    today = datetime.now(UTC).date().isoformat()
    march = rows[1]
    assert march.startswith(f"| {today} | ET-HAW-F001 | ET-HAW | March Energy.csv | 1 | 4 | 0 |")
    report_name = MARKDOWN_LINK.search(march).group(1)
    assert re.fullmatch(r"ET-HAW-F001_2024-01_march-energy_S-[0-9a-f]{16}\.md", report_name)
    report = workspace.reports_dir / report_name
    assert report.read_text(encoding="utf-8").startswith("# Validation report: March Energy.csv\n")
    assert [
        MARKDOWN_LINK.search(line).group(1).split("_")[1] for line in rest.splitlines() if "[report]" in line
    ] == [
        "2024-04",
        "2024-01",
    ]

    parser = Links()
    parser.feed((workspace.reports_dir / "index.html").read_text(encoding="utf-8"))
    assert parser.hrefs[1] == report_name
    assert all((workspace.reports_dir / href).is_file() for href in parser.hrefs)
    assert len(parser.hrefs) == 4


def test_report_names_say_facility_period_and_file_in_safe_characters():
    verdict = SubmissionVerdict(
        "March Energy.xlsx",
        "S-1a2b3c4d5e6f7a8b",
        3,
        0,
        (),
        facility_ids=("ET-HAW-F001",),
        periods=("2025-03",),
    )
    assert report_file_name(verdict) == "ET-HAW-F001_2025-03_march-energy_S-1a2b3c4d5e6f7a8b.md"
    several = SubmissionVerdict(
        "../../etc/pass wd\n.csv",
        "S-00000000000000ff",
        3,
        0,
        (),
        facility_ids=("KE-ATH-F010/..", "KE-ATH-F011"),
        periods=("2025-01", "2025-02", "2025-03"),
    )
    assert (
        report_file_name(several) == "KE-ATH-F010-and-1-more_2025-01-to-2025-03_pass-wd_S-00000000000000ff.md"
    )
    unreadable = SubmissionVerdict(
        "scan.pdf", "S-00000000000000aa", 0, 0, (), unreadable_rule="unreadable_format"
    )
    assert report_file_name(unreadable) == "scan_S-00000000000000aa.md"


def _update(settings: Settings) -> ReportsUpdate:
    with connect(settings) as con:
        return update_reports(con, settings.reports_dir, settings.archive_dir)


def _folder(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.name != FOLDER_STATE}


def test_reports_written_under_an_earlier_name_are_removed_and_nothing_else(workspace: Settings):
    drop(workspace, "a.csv", GOOD_ROWS[:1])
    reports = workspace.reports_dir
    reports.mkdir()
    (submission_id,) = [row[0] for row in ledger(workspace)]
    (reports / f"{submission_id}.md").write_text("old", encoding="utf-8")
    (reports / "notes.md").write_text("the steward's own notes", encoding="utf-8")
    # the record of an earlier version: report name -> text digest; a path outside is never followed
    (workspace.workspace / "outside.md").write_text("keep", encoding="utf-8")
    (reports / FOLDER_STATE).write_text(json.dumps({f"{submission_id}.md": "x", "../outside.md": "y"}))
    (written,) = _update(workspace).written
    assert written.report_name == f"ET-HAW-F001_2024-01_a_{submission_id}.md"
    assert sorted(p.name for p in reports.iterdir()) == sorted(
        [FOLDER_STATE, written.report_name, "notes.md", "index.md", "index.html"]
    )
    assert (workspace.workspace / "outside.md").read_text(encoding="utf-8") == "keep"


def test_a_new_file_writes_its_own_report_and_the_folder_reads_as_if_written_whole(
    workspace: Settings, tmp_path: Path
):
    drop(workspace, "january.csv", GOOD_ROWS)
    drop(workspace, "faulty.csv", [row for row, _ in FAULTY_ROWS[:4]])
    assert len(_update(workspace).written) == 2
    assert _update(workspace).written == []  # nothing changed: nothing rendered

    # a restatement: the new file's report is written; January's rows change state (superseded), which
    # its report does not say but the queue does
    drop(workspace, "restated.csv", [GOOD_ROWS[0].replace(",850,", ",900,")])
    update = _update(workspace)
    assert [r.file_name for r in update.written] == ["restated.csv"]
    assert [r.file_name for r in update.reports] == ["january.csv", "faulty.csv", "restated.csv"]
    january = next(
        line for line in (workspace.reports_dir / "index.md").read_text().splitlines() if "january" in line
    )
    assert f"| january.csv | {len(GOOD_ROWS) - 1} | 0 | 1 |" in january

    # a report deleted by hand is written again
    (workspace.reports_dir / update.reports[0].report_name).unlink()
    assert [r.file_name for r in _update(workspace).written] == ["january.csv"]

    # the folder written a step at a time is the folder written at once from the same ledger
    incremental = _folder(workspace.reports_dir)
    shutil.rmtree(workspace.reports_dir)
    assert len(_update(workspace).written) == 3
    assert _folder(workspace.reports_dir) == incremental


def test_a_rejected_row_confirmed_later_rewrites_its_report(workspace: Settings):
    drop(workspace, "faulty.csv", [row for row, _ in FAULTY_ROWS[:4]] + GOOD_ROWS[:1])
    (report,) = _update(workspace).reports
    before = (workspace.reports_dir / report.report_name).read_text(encoding="utf-8")
    with connect(workspace) as con:
        # a rejected row settled again as accepted, as a steward's confirmation does
        sid, row_number = con.execute(
            "SELECT submission_id, row_number FROM submission_rows WHERE state = 'rejected' "
            "ORDER BY row_number LIMIT 1"
        ).fetchall()[0]
        con.execute(
            "UPDATE submission_rows SET state = 'accepted', rule = NULL, message = NULL "
            "WHERE submission_id = ? AND row_number = ?",
            [sid, row_number],
        )
        con.execute("DELETE FROM row_issues WHERE submission_id = ? AND row_number = ?", [sid, row_number])
    (rewritten,) = _update(workspace).written
    after = (workspace.reports_dir / rewritten.report_name).read_text(encoding="utf-8")
    rejected = re.search(r"rejected: (\d+)", before).group(1)
    assert f"; rejected: {int(rejected) - 1}" in after
    assert f"| {row_number + 1} |" in before and f"| {row_number + 1} |" not in after
