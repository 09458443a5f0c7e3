"""The review queue (`reports/index.md`, `index.html`) and report names a person recognises."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import dagster as dg

from assets.resources import InstepWorkspace
from assets.validate import submission_reports
from instep.report import REPORT_DIGESTS, SubmissionVerdict, report_file_name, write_reports
from instep.settings import Settings
from tests.test_ingest import FAULTY_ROWS, GOOD_ROWS, HEADER, ingest

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


def test_reports_written_under_an_earlier_name_are_removed_and_nothing_else(tmp_path: Path):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "S-1a2b3c4d5e6f7a8b.md").write_text("old", encoding="utf-8")
    (reports / "notes.md").write_text("the steward's own notes", encoding="utf-8")
    (reports / REPORT_DIGESTS).write_text(json.dumps({"S-1a2b3c4d5e6f7a8b.md": "x", "../x.md": "y"}))
    verdict = SubmissionVerdict("a.csv", "S-1a2b3c4d5e6f7a8b", 1, 0, (), facility_ids=("ET-HAW-F001",))
    (written,) = write_reports([verdict], reports)
    assert written.name == "ET-HAW-F001_a_S-1a2b3c4d5e6f7a8b.md"
    assert sorted(p.name for p in reports.iterdir()) == [
        REPORT_DIGESTS,
        "ET-HAW-F001_a_S-1a2b3c4d5e6f7a8b.md",
        "notes.md",
    ]
