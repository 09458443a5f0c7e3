"""Validation reports a steward can send back to the factory (Markdown).

One renderer serves the pipeline (a report per submission in the workspace's `reports/`) and
`instep check` (printed), so both say the same thing in the same words.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from expectations import rule as rule_definition
from instep.readers import display_name


@dataclass(frozen=True)
class Issue:
    row_number: int
    column: str
    rule: str
    value: str | None
    expected: str
    message: str

    @property
    def line(self) -> int:
        """The spreadsheet line (the header is line 1)."""
        return self.row_number + 1


@dataclass(frozen=True)
class SubmissionVerdict:
    file_name: str
    submission_id: str
    rows_read: int
    rows_rejected: int
    issues: tuple[Issue, ...]
    unreadable_rule: str | None = None
    unreadable_message: str | None = None
    ignored_columns: str | None = None

    @property
    def unreadable(self) -> bool:
        return self.unreadable_rule is not None

    @property
    def valid(self) -> bool:
        return not self.unreadable and not self.issues

    @property
    def exit_code(self) -> int:
        return 2 if self.unreadable else (1 if self.issues else 0)

    @property
    def rules_failed(self) -> set[str]:
        if self.unreadable_rule:
            return {self.unreadable_rule}
        return {issue.rule for issue in self.issues}


# Characters by which submitted text could become markup: a tag, a link, code or a table cell. A
# backslash before each makes it literal text, so "<script>" or "[x](...)" shows as typed.
_MARKUP = re.compile(r"([\\`\[\]<>&|])")


def markdown_text(text: str) -> str:
    """Submitted text as literal Markdown on one line: markup escaped, control characters (line breaks
    included) shown as escapes."""
    # display_name: a terminal escape or line break in the text is shown, never obeyed
    return display_name(_MARKUP.sub(r"\\\1", text))


def _cell(text: object, limit: int = 80) -> str:
    shown = "" if text is None else str(text)
    if len(shown) > limit:
        shown = shown[: limit - 3] + "..."
    return markdown_text(shown.replace("\n", " "))


def render_report(verdict: SubmissionVerdict) -> str:
    lines = [f"# Validation report: {markdown_text(verdict.file_name)}", ""]
    lines.append(f"- submission id: `{verdict.submission_id}`")
    if verdict.unreadable:
        definition = rule_definition(verdict.unreadable_rule or "")
        lines += [
            "- verdict: **file rejected as a whole** (nothing in it was ingested)",
            f"- rule: `{verdict.unreadable_rule}`",
            f"- reason: {markdown_text(verdict.unreadable_message or '')}",
            f"- expected: {definition.expected}",
            "",
            "Fix the file and send it again; the template and `instep check FILE` help.",
        ]
        return "\n".join(lines) + "\n"
    accepted = verdict.rows_read - verdict.rows_rejected
    verdict_text = (
        "**valid**" if verdict.valid else f"**{verdict.rows_rejected} of {verdict.rows_read} rows rejected**"
    )
    lines += [
        f"- verdict: {verdict_text}",
        f"- rows read: {verdict.rows_read}; accepted: {accepted}; rejected: {verdict.rows_rejected}",
    ]
    if verdict.ignored_columns:
        lines.append(
            f"- columns ignored (not part of the submission format): {markdown_text(verdict.ignored_columns)}"
        )
    if verdict.issues:
        counts: dict[str, int] = {}
        for issue in verdict.issues:
            counts[issue.rule] = counts.get(issue.rule, 0) + 1
        lines += ["", "## Rules not met", "", "| rule | rows | what is expected |", "|---|---|---|"]
        for rule_id, count in sorted(counts.items(), key=lambda item: rule_definition(item[0]).order):
            lines.append(f"| `{rule_id}` | {count} | {_cell(rule_definition(rule_id).expected)} |")
        lines += [
            "",
            "## Rows to correct",
            "",
            "Line numbers count the header as line 1, as a spreadsheet does.",
            "",
            "| line | column | rule | value | expected | message |",
            "|---|---|---|---|---|---|",
        ]
        for issue in verdict.issues:
            lines.append(
                f"| {issue.line} | {_cell(issue.column)} | `{issue.rule}` | {_cell(issue.value)} "
                f"| {_cell(issue.expected, 200)} | {_cell(issue.message, 300)} |"
            )
        lines += [
            "",
            "Correct these rows and send the corrected rows again; rows already accepted need not be resent.",
        ]
    return "\n".join(lines) + "\n"


def verdicts_from_warehouse(
    con: duckdb.DuckDBPyConnection, submission_ids: Sequence[str] | None = None
) -> list[SubmissionVerdict]:
    """Verdicts for recorded submissions (all, or the ones named), in ingest order."""
    where = ""
    params: list[object] = []
    if submission_ids is not None:
        if not submission_ids:
            return []
        where = "WHERE f.submission_id IN (SELECT unnest(?))"
        params.append(list(submission_ids))
    files = con.execute(
        f"""
        SELECT f.submission_id, f.original_name, f.rows_read, f.rule, f.message, f.ignored_columns,
               (SELECT count(*) FROM submission_rows r
                WHERE r.submission_id = f.submission_id AND r.state = 'rejected') AS rejected
        FROM submission_files AS f {where} ORDER BY f.file_seq
        """,
        params,
    ).fetchall()
    issues_by_file: dict[str, list[Issue]] = {}
    issue_rows = con.execute(
        f"""
        SELECT i.submission_id, i.row_number, i."column", i.rule, i.value, i.expected, i.message
        FROM row_issues AS i JOIN submission_files AS f USING (submission_id) {where}
        ORDER BY i.submission_id, i.row_number, i.rule
        """,
        params,
    ).fetchall()
    for submission_id, row_number, column, rule_id, value, expected, message in issue_rows:
        issues_by_file.setdefault(submission_id, []).append(
            Issue(row_number, column, rule_id, value, expected or "", message)
        )
    return [
        SubmissionVerdict(
            file_name=name,
            submission_id=sid,
            rows_read=rows_read,
            rows_rejected=rejected,
            issues=tuple(
                sorted(
                    issues_by_file.get(sid, []), key=lambda i: (i.row_number, rule_definition(i.rule).order)
                )
            ),
            unreadable_rule=file_rule,
            unreadable_message=file_message,
            ignored_columns=ignored,
        )
        for sid, name, rows_read, file_rule, file_message, ignored, rejected in files
    ]


# Digest of each report's text as last written: a report whose text did not change is not written again.
REPORT_INDEX = ".written.json"


def write_reports(verdicts: Sequence[SubmissionVerdict], reports_dir: Path) -> list[Path]:
    """Write one report per verdict; returns every report's path, written now or unchanged.

    A verdict is fixed once its submission is settled, so after the first run only new submissions'
    reports are written: opening tens of thousands of files each run costs more than the rest of it.
    """
    reports_dir.mkdir(parents=True, exist_ok=True)
    index_path = reports_dir / REPORT_INDEX
    try:
        before = json.loads(index_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        before = {}
    index: dict[str, str] = {}
    written = []
    for verdict in verdicts:
        path = reports_dir / f"{verdict.submission_id}.md"
        text = render_report(verdict)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if before.get(path.name) != digest or not path.exists():
            path.write_text(text, encoding="utf-8")
        index[path.name] = digest
        written.append(path)
    partial = index_path.with_suffix(".partial")
    partial.write_text(json.dumps(index), encoding="utf-8")
    partial.replace(index_path)
    return written
