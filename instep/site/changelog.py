"""A release's CHANGELOG.md as the site shows it: sections and tables in words, not Markdown source.

The changelog is a file of the release (written by `instep.release.changelog`); the site reads it back
rather than recomputing what changed, so that the page says exactly what the release says.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from instep.release.changelog import CHANGED_ROWS_SECTION, ROWS_SECTION
from instep.site.markup import esc, table_html

# The changelog's column names, as a reader says them.
HEADERS = {
    "resource": "Table",
    "rows": "Rows",
    "added": "Added",
    "removed": "Removed",
    "changed": "Changed",
    "facility": "Facility",
    "period / key": "Period or key",
    "column": "Column",
    "change": "Change",
    "row": "Row",
    "old": "Old value",
    "new": "New value",
}


@dataclass
class Section:
    title: str  # "" for the text before the first "## " heading
    text: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    numeric: list[bool] = field(default_factory=list)


def _cells(line: str) -> list[str]:
    inner = line.strip()[1:-1] if line.strip().endswith("|") else line.strip()[1:]
    cells, current, escaped = [], "", False
    for char in inner:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "|":
            cells.append(current.strip())
            current = ""
        else:
            current += char
    cells.append(current.strip())
    return cells


def parse(markdown: str) -> list[Section]:
    """The changelog's sections, each with its prose lines and (at most one) table."""
    sections = [Section("")]
    for line in markdown.splitlines():
        if line.startswith("# "):
            continue
        if line.startswith("## "):
            sections.append(Section(line[3:].strip()))
            continue
        section = sections[-1]
        if line.startswith("|"):
            cells = _cells(line)
            if not section.headers:
                section.headers = cells
            elif all(set(cell) <= set("-:") and cell for cell in cells):
                section.numeric = [cell.endswith(":") for cell in cells]
            else:
                section.rows.append(cells)
        elif line.strip():
            section.text.append(line.strip())
    return [s for s in sections if s.title or s.text or s.rows]


def _inline(text: str) -> str:
    """The changelog's prose: escaped, `code` kept as code, '- ' items as plain lines."""
    parts = esc(text.removeprefix("- ")).split("`")
    return "".join(f"<code>{part}</code>" if i % 2 else part for i, part in enumerate(parts))


def section_html(section: Section, heading_level: int = 2) -> str:
    out = []
    if section.title:
        out.append(f"<h{heading_level}>{esc(section.title)}</h{heading_level}>")
    items = [line for line in section.text if line.startswith("- ")]
    prose = [line for line in section.text if not line.startswith("- ")]
    out += [f"<p>{_inline(line)}</p>" for line in prose]
    if items:
        out.append("<ul>" + "".join(f"<li>{_inline(line)}</li>" for line in items) + "</ul>")
    if section.headers:
        headers = [HEADERS.get(h, h) for h in section.headers]
        rows = [[esc(cell) for cell in row] for row in section.rows]
        numeric = section.numeric or [False] * len(headers)
        out.append(table_html(headers, rows, numeric))
    return "\n\n".join(out)


def changelog_html(markdown: str, heading_level: int = 2) -> str:
    sections = parse(markdown)
    if not sections:
        return "<p>No changelog in this release.</p>"
    return "\n\n".join(section_html(s, heading_level) for s in sections)


def summary(markdown: str) -> dict[str, int]:
    """Rows added, removed and changed over all tables, and values restated, from the changelog."""
    totals = {"added": 0, "removed": 0, "changed": 0, "restated": 0}
    for section in parse(markdown):
        if section.title == ROWS_SECTION:
            for row in section.rows:
                record = dict(zip(section.headers, row, strict=False))
                for name in ("added", "removed", "changed"):
                    value = record.get(name, "").strip()
                    totals[name] += int(value) if value.isdigit() else 0
        elif section.title == CHANGED_ROWS_SECTION:
            kinds = [dict(zip(section.headers, row, strict=False)).get("change", "") for row in section.rows]
            totals["restated"] += kinds.count("restated")
    return totals
