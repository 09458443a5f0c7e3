"""Words, not codes: the glossary, abbreviations spelled out on first use, units and schema terms in
words.

The glossary's abbreviations are in `data/glossary.csv` (term, expansion, definition); the indicators
come from the rubric file the scores are computed with.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from instep.site.markup import esc

GLOSSARY = Path(__file__).resolve().parent / "data" / "glossary.csv"


@dataclass(frozen=True)
class Term:
    term: str
    expansion: str
    definition: str

    @property
    def anchor(self) -> str:
        return "term-" + re.sub(r"[^a-z0-9]+", "-", self.term.lower()).strip("-")


@cache
def glossary() -> tuple[Term, ...]:
    with GLOSSARY.open(encoding="utf-8", newline="") as handle:
        terms = tuple(Term(r["term"], r["expansion"], r["definition"]) for r in csv.DictReader(handle))
    for term in terms:
        if not (term.term and term.expansion and term.definition):
            raise ValueError(f"{GLOSSARY.name}: term {term.term!r} needs an expansion and a definition")
    return terms


# Abbreviations marked on first use: the glossary's upper-case terms, longest first (so that "OS ID" is
# matched before a shorter term inside it).
@cache
def _abbreviations() -> tuple[tuple[re.Pattern[str], Term], ...]:
    terms = [t for t in glossary() if t.term.replace(" ", "").replace("₂", "").isupper()]
    terms.sort(key=lambda t: -len(t.term))
    return tuple((re.compile(rf"(?<![\w/#.-]){re.escape(t.term)}(?![\w-])"), t) for t in terms)


@cache
def _any_abbreviation() -> re.Pattern[str]:
    """Any of the abbreviations as a substring: most text parts of a page (numbers, words) hold none,
    and one search says so for all of them at once."""
    return re.compile("|".join(re.escape(t.term) for _, t in _abbreviations()))


# Where an abbreviation is not marked: inside these elements, and in Markdown headings and code.
_SKIPPED = {"code", "pre", "script", "abbr", "a", "summary", "option", "select", "title", "h1", "h2", "h3"}
_TAG = re.compile(r"(<[^>]+>)")
_TAG_NAME = re.compile(r"<(/?)([a-zA-Z0-9]+)")


def mark_abbreviations(body: str) -> str:
    """`<abbr title="...">` around the first use of each glossary abbreviation in a page's text.

    Only text is touched: not tags or their attributes, headings, code, links or fenced blocks."""
    seen: set[str] = set()
    depth: dict[str, int] = {}  # open skipped elements, across lines (a <script> block spans several)
    out_lines = []
    fenced = False
    for line in body.split("\n"):
        if line.startswith("```"):
            fenced = not fenced
        if fenced or line.startswith(("#", "    ", "!!!", "|")):
            out_lines.append(line)
            continue
        out_lines.append(_mark_line(line, seen, depth))
    return "\n".join(out_lines)


def _mark_line(line: str, seen: set[str], depth: dict[str, int]) -> str:
    parts = _TAG.split(line)
    for index, part in enumerate(parts):
        if index % 2:  # a tag
            match = _TAG_NAME.match(part)
            if match and not part.endswith("/>"):
                name = match.group(2).lower()
                if name in _SKIPPED:
                    depth[name] = depth.get(name, 0) + (-1 if match.group(1) else 1)
            continue
        if any(v > 0 for v in depth.values()) or "`" in part or "](" in part:
            continue
        if not _any_abbreviation().search(part):
            continue
        for pattern, term in _abbreviations():
            # the substring test first: a page's text part seldom holds a term, and it is ten times
            # cheaper than the pattern
            if term.term in seen or term.term not in part:
                continue
            found = pattern.search(part)
            if found:
                seen.add(term.term)
                abbr = f'<abbr title="{esc(term.expansion)}">{esc(term.term)}</abbr>'
                part = part[: found.start()] + abbr + part[found.end() :]
        parts[index] = part
    return "".join(parts)


# What a count counts, by column (a count has no unit of its own).
COUNT_WORDS = {
    "fatalities": "fatalities",
    "fatality_free": "fatalities",
    "workers_total": "workers",
    "workers_female": "women workers",
    "grievances_received": "grievances",
    "grievances_resolved": "grievances resolved",
    "injuries_lost_time": "lost-time injuries",
    "injuries_recordable": "recordable injuries",
}


def unit_words(unit: str | None, column: str = "") -> str:
    """A unit for traced_number: a count becomes what it counts (other units are spelled out by
    markup.unit_label)."""
    unit = (unit or "").strip()
    if unit == "count":
        return COUNT_WORDS.get(column, "in number")
    return unit


TYPE_WORDS = {
    "string": "text",
    "integer": "whole number",
    "number": "number",
    "boolean": "true or false",
    "date": "date (YYYY-MM-DD)",
    "year": "year",
    "yearmonth": "month (YYYY-MM)",
    "datetime": "date and time",
}


def constraint_words(constraints: dict[str, Any]) -> str:
    """A field's constraints as a sentence: 'Required. One of: factory, cetp.' rather than a dict."""
    out = []
    if constraints.get("required"):
        out.append("Required.")
    if constraints.get("unique"):
        out.append("Unique.")
    if "enum" in constraints:
        values = ", ".join(str(v) for v in constraints["enum"])
        out.append(f"One of: {values}.")
    if "minimum" in constraints and "maximum" in constraints:
        out.append(f"From {constraints['minimum']} to {constraints['maximum']}.")
    elif "minimum" in constraints:
        out.append(f"At least {constraints['minimum']}.")
    elif "maximum" in constraints:
        out.append(f"At most {constraints['maximum']}.")
    if "minLength" in constraints or "maxLength" in constraints:
        low, high = constraints.get("minLength"), constraints.get("maxLength")
        out.append(
            f"{low} to {high} characters."
            if low is not None and high is not None
            else f"At least {low} characters."
            if low is not None
            else f"At most {high} characters."
        )
    if "pattern" in constraints:
        out.append(f"Matches the pattern {constraints['pattern']}.")
    known = {"required", "unique", "enum", "minimum", "maximum", "minLength", "maxLength", "pattern"}
    for name, value in constraints.items():
        if name not in known:
            out.append(f"{name}: {value}.")
    return " ".join(out)
