"""The message templates of the rules: `messages.csv`, beside `rules.csv`.

Each template belongs to a rule of `rules.csv` (or to none, when it composes a rule's own message) and
names its placeholders in the `placeholders` column, in the order they first appear. The readers fill a
template with Python values (`fill`), the validation SQL with DuckDB expressions (`sql`): both check that
every placeholder, and nothing else, is given, so a message can neither lose a value nor be printed with
a `{name}` left in it.
"""

from __future__ import annotations

import csv
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from expectations import RULES_FILE, rules

MESSAGES_FILE = Path(__file__).resolve().parent / "messages.csv"


@dataclass(frozen=True)
class MessageTemplate:
    message: str  # the template's id, `<rule>.<case>` by convention
    rule: str  # the rule of rules.csv it reports; empty for a composition of a rule's own message
    placeholders: tuple[str, ...]
    template: str  # Python format syntax: {name}, {name:,} for a thousands separator, {{ for a brace

    def _check(self, given: set[str]) -> None:
        missing = [name for name in self.placeholders if name not in given]
        unknown = sorted(given - set(self.placeholders))
        if missing or unknown:
            raise ValueError(
                f"message {self.message!r} of {MESSAGES_FILE.name} needs the placeholders "
                f"{', '.join(self.placeholders) or '(none)'}; missing: {', '.join(missing) or 'none'}, "
                f"unknown: {', '.join(unknown) or 'none'}"
            )

    def fill(self, **values: object) -> str:
        """The message text with each placeholder replaced by its value."""
        self._check(set(values))
        return self.template.format(**values)

    def sql(self, **expressions: str) -> str:
        """A DuckDB expression giving the message, each placeholder filled by its SQL expression.

        DuckDB's `format` takes the same specifications as Python (`{:,}`) but positional fields only, so
        each named field becomes `{}` and its expression an argument, in the order of the template.
        """
        self._check(set(expressions))
        pattern: list[str] = []
        arguments: list[str] = []
        for literal, name, spec, conversion in string.Formatter().parse(self.template):
            pattern.append(literal.replace("{", "{{").replace("}", "}}"))
            if name is None:
                continue
            if conversion:
                raise ValueError(f"message {self.message!r}: a conversion (!{conversion}) has no SQL form")
            pattern.append("{:" + spec + "}" if spec else "{}")
            arguments.append(expressions[name])
        if not arguments:  # a fixed text: no format call, so its braces are not doubled
            return sql_text(self.template.format())
        return f"format({', '.join([sql_text(''.join(pattern)), *arguments])})"


def sql_text(text: str) -> str:
    """`text` as a DuckDB string literal, for a placeholder filled with a fixed text (a metric's name)."""
    return "'" + text.replace("'", "''") + "'"


def _placeholders(template: str) -> tuple[str, ...]:
    names: list[str] = []
    for _, name, _, _ in string.Formatter().parse(template):
        if name is not None and name not in names:
            names.append(name)
    return tuple(names)


@cache
def messages() -> dict[str, MessageTemplate]:
    """Every template by id; a template whose rule or placeholders do not agree with its text is refused."""
    known_rules = rules()
    found: dict[str, MessageTemplate] = {}
    with MESSAGES_FILE.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            where = f"{MESSAGES_FILE.name} line {line} ({row['message']})"
            if row["message"] in found:
                raise ValueError(f"{where}: the id is defined twice")
            if row["rule"] and row["rule"] not in known_rules:
                raise ValueError(f"{where}: rule {row['rule']!r} is not defined in {RULES_FILE.name}")
            placeholders = tuple(row["placeholders"].split())
            if placeholders != _placeholders(row["template"]):
                raise ValueError(
                    f"{where}: the placeholders column says {' '.join(placeholders) or '(none)'}, the "
                    f"template uses {' '.join(_placeholders(row['template'])) or '(none)'}"
                )
            found[row["message"]] = MessageTemplate(
                row["message"], row["rule"], placeholders, row["template"]
            )
    return found


def message(message_id: str) -> MessageTemplate:
    try:
        return messages()[message_id]
    except KeyError:
        raise KeyError(f"message {message_id!r} is not defined in {MESSAGES_FILE.name}") from None


def fill(message_id: str, **values: object) -> str:
    """The text of message `message_id` with its placeholders filled (see `MessageTemplate.fill`)."""
    return message(message_id).fill(**values)
