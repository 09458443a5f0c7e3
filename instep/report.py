"""Validation reports a steward can send back to the factory (Markdown).

One renderer serves the pipeline (a report per submission in the workspace's `reports/`) and
`instep check` (printed), so both say the same thing in the same words.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

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
    # The facilities its rows name (most rows first) and the well-formed periods they report, sorted;
    # of the rows not rejected, unless every row was.
    facility_ids: tuple[str, ...] = ()
    periods: tuple[str, ...] = ()
    # What this verdict could not judge, said beside it (e.g. facility ids, without a registry).
    not_checked: str | None = None

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


def _shortened(text: object, limit: int = 80) -> str:
    shown = "" if text is None else str(text).replace("\n", " ")
    return shown[: limit - 3] + "..." if len(shown) > limit else shown


# ---------------------------------------------------------------- what a report says, in any format


@dataclass(frozen=True)
class Span:
    """A piece of a report line; `style` is "" (text), "code" (an identifier) or "strong"."""

    text: str
    style: str = ""


Line = tuple[Span, ...]


@dataclass(frozen=True)
class Section:
    title: str
    note: str
    header: tuple[str, ...]
    rows: tuple[tuple[Line, ...], ...]


@dataclass(frozen=True)
class ReportContent:
    """One verdict's report, before it is written as plain text, Markdown or HTML."""

    file_name: str
    facts: tuple[tuple[str, Line], ...]
    sections: tuple[Section, ...] = ()
    closing: Line = ()


def _text(text: object, limit: int | None = None) -> Span:
    return Span(_shortened(text, limit) if limit else ("" if text is None else str(text)))


def report_content(verdict: SubmissionVerdict) -> ReportContent:
    facts: list[tuple[str, Line]] = [("submission id", (Span(verdict.submission_id, "code"),))]
    not_checked = (Span(f" ({verdict.not_checked})"),) if verdict.not_checked else ()
    if verdict.unreadable:
        definition = rule_definition(verdict.unreadable_rule or "")
        facts += [
            ("verdict", (Span("file rejected as a whole", "strong"), Span(" (nothing in it was ingested)"))),
            ("rule", (Span(verdict.unreadable_rule or "", "code"),)),
            ("reason", (_text(verdict.unreadable_message),)),
            ("expected", (_text(definition.expected),)),
        ]
        closing = (
            Span("Fix the file and send it again; the template and "),
            Span("instep check FILE", "code"),
            Span(" help."),
        )
        return ReportContent(verdict.file_name, tuple(facts), closing=closing)
    accepted = verdict.rows_read - verdict.rows_rejected
    verdict_text = (
        "valid" if verdict.valid else f"{verdict.rows_rejected} of {verdict.rows_read} rows rejected"
    )
    facts += [
        ("verdict", (Span(verdict_text, "strong"), *not_checked)),
        (
            "rows read",
            (Span(f"{verdict.rows_read}; accepted: {accepted}; rejected: {verdict.rows_rejected}"),),
        ),
    ]
    if verdict.ignored_columns:
        facts.append(
            ("columns ignored (not part of the submission format)", (_text(verdict.ignored_columns),))
        )
    if not verdict.issues:
        return ReportContent(verdict.file_name, tuple(facts))
    counts: dict[str, int] = {}
    for issue in verdict.issues:
        counts[issue.rule] = counts.get(issue.rule, 0) + 1
    rules_not_met = Section(
        "Rules not met",
        "",
        ("rule", "rows", "what is expected"),
        tuple(
            ((Span(rule_id, "code"),), (Span(str(count)),), (_text(rule_definition(rule_id).expected, 80),))
            for rule_id, count in sorted(counts.items(), key=lambda item: rule_definition(item[0]).order)
        ),
    )
    rows_to_correct = Section(
        "Rows to correct",
        "Line numbers count the header as line 1, as a spreadsheet does.",
        ("line", "column", "rule", "value", "expected", "message"),
        tuple(
            (
                (Span(str(issue.line)),),
                (_text(issue.column, 80),),
                (Span(issue.rule, "code"),),
                (_text(issue.value, 80),),
                (_text(issue.expected, 200),),
                (_text(issue.message, 300),),
            )
            for issue in verdict.issues
        ),
    )
    closing = (
        Span(
            "Correct these rows and send the corrected rows again; rows already accepted need not be resent."
        ),
    )
    return ReportContent(verdict.file_name, tuple(facts), (rules_not_met, rows_to_correct), closing)


def _markdown_line(line: Line) -> str:
    def one(span: Span) -> str:
        if span.style == "code":
            return f"`{display_name(span.text)}`"
        text = markdown_text(span.text)
        return f"**{text}**" if span.style == "strong" else text

    return "".join(one(span) for span in line)


def render_report(verdict: SubmissionVerdict) -> str:
    """The report as Markdown: the file the pipeline writes to `reports/`."""
    content = report_content(verdict)
    lines = [f"# Validation report: {markdown_text(content.file_name)}", ""]
    lines += [f"- {label}: {_markdown_line(value)}" for label, value in content.facts]
    for section in content.sections:
        lines += ["", f"## {section.title}", ""]
        if section.note:
            lines += [section.note, ""]
        lines.append("| " + " | ".join(section.header) + " |")
        lines.append("|" + "---|" * len(section.header))
        lines += ["| " + " | ".join(_markdown_line(cell) for cell in row) + " |" for row in section.rows]
    if content.closing:
        lines += ["", _markdown_line(content.closing)]
    return "\n".join(lines) + "\n"


def _plain_line(line: Line) -> str:
    # display_name: a terminal escape in submitted text is shown, never obeyed by the terminal
    return "".join(display_name(span.text) for span in line)


def render_report_text(verdict: SubmissionVerdict) -> str:
    """The report as plain text for a terminal: no markup, one block per row to correct."""
    content = report_content(verdict)
    title = f"Validation report: {display_name(content.file_name)}"
    lines = [title, "=" * min(len(title), 100)]
    lines += [f"  {label}: {_plain_line(value)}" for label, value in content.facts]
    for section in content.sections:
        lines += ["", section.title, "-" * len(section.title)]
        if section.note:
            lines.append(section.note)
        for row in section.rows:
            cells = dict(zip(section.header, (_plain_line(cell) for cell in row), strict=True))
            if "line" in cells:
                value = f": {cells['value']}" if cells["value"] else ""
                lines += [
                    f"  line {cells['line']}, {cells['column'] or 'row'}, {cells['rule']}{value}",
                    f"      expected: {cells['expected']}",
                    f"      {cells['message']}",
                ]
            else:
                rows = f"{cells['rows']} row" + ("" if cells["rows"] == "1" else "s")
                lines.append(f"  {cells['rule']} ({rows}): {cells['what is expected']}")
    if content.closing:
        lines += ["", _plain_line(content.closing)]
    return "\n".join(lines) + "\n"


def _html_line(line: Line) -> str:
    def one(span: Span) -> str:
        text = html.escape(display_name(span.text))
        return {"code": f"<code>{text}</code>", "strong": f"<strong>{text}</strong>"}.get(span.style, text)

    return "".join(one(span) for span in line)


def render_report_html(verdict: SubmissionVerdict) -> str:
    """The report as an HTML fragment (a `section`), for a page of several reports."""
    content = report_content(verdict)
    parts = [
        "<section>",
        f"<h2>Validation report: {html.escape(display_name(content.file_name))}</h2>",
        "<ul>",
        *(f"<li>{html.escape(label)}: {_html_line(value)}</li>" for label, value in content.facts),
        "</ul>",
    ]
    for section in content.sections:
        parts.append(f"<h3>{html.escape(section.title)}</h3>")
        if section.note:
            parts.append(f"<p>{html.escape(section.note)}</p>")
        parts.append("<table><thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in section.header))
        parts.append("</tr></thead><tbody>")
        parts += [
            "<tr>" + "".join(f"<td>{_html_line(cell)}</td>" for cell in row) + "</tr>" for row in section.rows
        ]
        parts.append("</tbody></table>")
    if content.closing:
        parts.append(f"<p>{_html_line(content.closing)}</p>")
    parts.append("</section>")
    return "\n".join(parts) + "\n"


HTML_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1rem auto;max-width:72rem;padding:0 1rem;line-height:1.4}"
    "table{border-collapse:collapse;margin:.5rem 0;display:block;overflow-x:auto}"
    "th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left;vertical-align:top}"
    "th{background:#eee}code{font-size:.95em}"
)


def html_page(title: str, body: str) -> str:
    """A whole HTML page around report fragments: self-contained, nothing loaded from elsewhere."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{HTML_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n{body}</body>\n</html>\n"
    )


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
    # What a file is about: the facilities and periods of its rows not rejected (a mistyped id or year
    # in a rejected row does not name the file), or of all its rows when every one was rejected.
    named = con.execute(
        f"""
        WITH named AS (
            SELECT r.submission_id, trim(r.facility_id) AS facility_id,
                   count(*) FILTER (WHERE r.state <> 'rejected') AS kept, count(*) AS rows
            FROM submission_rows AS r JOIN submission_files AS f USING (submission_id) {where}
            GROUP BY ALL HAVING trim(r.facility_id) <> ''
        ), chosen AS (SELECT *, max(kept) OVER (PARTITION BY submission_id) AS most_kept FROM named)
        SELECT submission_id, list(facility_id ORDER BY kept DESC, rows DESC, facility_id)
        FROM chosen WHERE kept > 0 OR most_kept = 0 GROUP BY ALL
        """,
        params,
    ).fetchall()
    facilities_by_file = {sid: tuple(ids) for sid, ids in named}
    periods_by_file = dict(
        con.execute(
            f"""
            WITH named AS (
                SELECT r.submission_id, trim(r.period) AS period, bool_or(r.state <> 'rejected') AS kept
                FROM submission_rows AS r JOIN submission_files AS f USING (submission_id) {where}
                {"AND" if where else "WHERE"} regexp_full_match(trim(r.period), '\\d{{4}}-(0[1-9]|1[0-2])')
                GROUP BY ALL
            ), chosen AS (SELECT *, bool_or(kept) OVER (PARTITION BY submission_id) AS any_kept FROM named)
            SELECT submission_id, list(period ORDER BY period) FROM chosen WHERE kept OR NOT any_kept
            GROUP BY ALL
            """,
            params,
        ).fetchall()
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
            facility_ids=facilities_by_file.get(sid, ()),
            periods=tuple(periods_by_file.get(sid, ())),
        )
        for sid, name, rows_read, file_rule, file_message, ignored, rejected in files
    ]


# What a name in `reports/` may hold: letters, digits, dots, dashes and underscores, nothing a shell,
# a file system or a URL treats specially.
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9]+")


def _name_part(text: str, limit: int, lower: bool = False) -> str:
    part = _UNSAFE_IN_NAME.sub("-", text.lower() if lower else text).strip("-")
    return part[:limit].rstrip("-")


def report_file_name(verdict: SubmissionVerdict) -> str:
    """A report's file name a person recognises: facility, period, original name, then the id.

    e.g. `ET-HAW-F001_2025-03_march-energy_S-1a2b3c4d5e6f7a8b.md`; a part the file does not tell (an
    unreadable file names no facility) is left out. The id at the end keeps every name unique.
    """
    parts: list[str] = []
    if verdict.facility_ids:
        facility = _name_part(verdict.facility_ids[0], 24)
        others = len(verdict.facility_ids) - 1
        parts.append(f"{facility}-and-{others}-more" if others else facility)
    if verdict.periods:
        first, last = verdict.periods[0], verdict.periods[-1]
        parts.append(first if first == last else f"{first}-to-{last}")
    original = _name_part(PurePath(verdict.file_name).stem, 40, lower=True)
    parts += [original, verdict.submission_id]
    return "_".join(part for part in parts if part) + ".md"


def write_reports(verdicts: Sequence[SubmissionVerdict], reports_dir: Path) -> list[Path]:
    """Write one report per verdict into `reports_dir` (named by `report_file_name`); return their paths.

    `instep.reports_folder` decides which verdicts need writing in the workspace.
    """
    reports_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for verdict in verdicts:
        path = reports_dir / report_file_name(verdict)
        path.write_text(render_report(verdict), encoding="utf-8")
        written.append(path)
    return written


@dataclass(frozen=True)
class ReportSummary:
    """What the review queue and a run's summary say of one submission's report."""

    submission_id: str
    file_name: str
    facility_ids: tuple[str, ...]
    unreadable: bool
    exit_code: int
    report_name: str

    @classmethod
    def of(cls, verdict: SubmissionVerdict) -> ReportSummary:
        return cls(
            verdict.submission_id,
            verdict.file_name,
            verdict.facility_ids,
            verdict.unreadable,
            verdict.exit_code,
            report_file_name(verdict),
        )
