"""Great Expectations suites for submissions and the rule list they report against.

`rules.csv` is the one list of validation rules (id, scope, column, what was expected, message); the suites
in this package attach a rule id to every expectation, so the pipeline, `instep check` and the site's
rejection guide all speak of the same rules. `messages.csv` (see `messages.py`) holds the message
templates of the rules, the specific words a report gives for each case with the values it quotes.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

RULES_FILE = Path(__file__).resolve().parent / "rules.csv"


@dataclass(frozen=True)
class Rule:
    rule: str
    scope: str  # "file" or "row"
    column: str
    expected: str
    message: str
    order: int  # the first failed rule in this order is a rejected row's primary rule


@cache
def rules() -> dict[str, Rule]:
    with RULES_FILE.open(encoding="utf-8", newline="") as handle:
        return {row["rule"]: Rule(order=index, **row) for index, row in enumerate(csv.DictReader(handle))}


def rule(rule_id: str) -> Rule:
    try:
        return rules()[rule_id]
    except KeyError:
        raise KeyError(f"rule {rule_id!r} is not defined in {RULES_FILE.name}") from None


def rules_markdown() -> str:
    """The rule list as a Markdown table, for the steward guide and the factories' rejection guide."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = [
        "| rule | applies to | column | what is expected | what the report says |",
        "|---|---|---|---|---|",
    ]
    for item in rules().values():
        scope = "the whole file" if item.scope == "file" else "a row"
        column = item.column or "–"
        lines.append(f"| `{item.rule}` | {scope} | {column} | {cell(item.expected)} | {cell(item.message)} |")
    return "\n".join(lines) + "\n"


# Rules that need the programme's registry: `instep check` without one leaves them out and says so.
REGISTRY_RULES = ("unknown_facility", "facility_inactive")
# Characters Markdown would read as markup in a rule's text.
_MARKDOWN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]|"} | {"<": "&lt;", ">": "&gt;"})


def rules_in_words() -> str:
    """The rules for the people who fill the template: what the whole file and each row must be, and
    the words of the report when they are not (Markdown, for the site's factories pages)."""
    lines = []
    for scope, title in (("file", "The whole file"), ("row", "Each row")):
        lines += [f"## {title}", ""]
        for item in rules().values():
            if item.scope != scope:
                continue
            lead = f"**{item.column.translate(_MARKDOWN_SPECIAL)}**: expected" if item.column else "Expected:"
            needs_registry = (
                " Checked only with the programme's facilities.csv." if item.rule in REGISTRY_RULES else ""
            )
            lines.append(
                f"- {lead} {item.expected.translate(_MARKDOWN_SPECIAL)}; otherwise the report says "
                f"*{item.message.translate(_MARKDOWN_SPECIAL)}* (rule `{item.rule}`).{needs_registry}"
            )
        lines.append("")
    return "\n".join(lines)


# How a suite reports the rows it flags: every one, by the key that finds it in the ledger.
ROW_RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": ["submission_id", "row_number"],
    "return_unexpected_index_query": False,
}


def flagged_rows(result: object, name_key: str) -> Iterator[tuple[dict, str, int]]:
    """(expectation meta, submission_id, row_number) for each row an expectation of a suite result flags.

    An expectation that could not run at all stops the validation with its name (`meta[name_key]`), so a
    broken check never passes for a clean batch.
    """
    for outcome in result.results:  # type: ignore[attr-defined]
        meta = outcome.expectation_config.meta or {}
        if outcome.exception_info and outcome.exception_info.get("raised_exception"):
            raise RuntimeError(
                f"expectation {meta.get(name_key)} could not run: "
                f"{outcome.exception_info.get('exception_message')}"
            )
        if outcome.success:
            continue
        for index in outcome.result.get("unexpected_index_list") or []:
            yield meta, index["submission_id"], int(index["row_number"])
