"""Every message the readers and the validation give comes from one template of expectations/messages.csv,
belongs to a rule of rules.csv and is given every placeholder it names."""

from __future__ import annotations

import ast
from pathlib import Path

import duckdb
import pytest

from expectations import rules
from expectations.messages import MESSAGES_FILE, MessageTemplate, fill, message, messages
from instep.readers import UnreadableFile, read_submission_data

ROOT = Path(__file__).resolve().parent.parent
CODE = sorted(
    path
    for folder in ("instep", "expectations", "assets", "pipelines")
    for path in (ROOT / folder).rglob("*.py")
)
# Calls that take a message id as their first argument and its placeholders as keywords.
FILLING_CALLS = {"unreadable", "fill", "sql"}


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _message_id(node: ast.Call) -> str | None:
    if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value
    return None


def message_uses() -> list[tuple[str, int, str, set[str] | None]]:
    """(file, line, message id, keywords given or None when filled elsewhere) for every use in the code."""
    uses = []
    for path in CODE:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _call_name(node)
            where = str(path.relative_to(ROOT))
            if name == "message" and (message_id := _message_id(node)):
                uses.append((where, node.lineno, message_id, None))
            elif (
                isinstance(node.func, ast.Name)
                and name in FILLING_CALLS
                and (message_id := _message_id(node))
            ):
                uses.append((where, node.lineno, message_id, {k.arg for k in node.keywords if k.arg}))
            elif name in {"sql", "fill"} and isinstance(node.func, ast.Attribute):
                # message("id").sql(...) / .fill(...): the template is named by the inner call
                inner = node.func.value
                if isinstance(inner, ast.Call) and _call_name(inner) == "message" and _message_id(inner):
                    uses.append(
                        (where, node.lineno, _message_id(inner), {k.arg for k in node.keywords if k.arg})
                    )
    return uses


def test_every_message_used_in_the_code_is_defined_and_given_all_its_placeholders():
    uses = message_uses()
    assert len(uses) >= 70  # the readers, the staging, the validation SQL and the cross-row rules
    defined = messages()
    for where, line, message_id, given in uses:
        assert message_id in defined, f"{where}:{line}: {message_id} is not in {MESSAGES_FILE.name}"
        if given is not None:
            needed = defined[message_id].placeholders
            assert given == set(needed), f"{where}:{line}: {message_id} needs {needed}, given {sorted(given)}"


def test_every_template_is_used_and_belongs_to_a_defined_rule():
    used = {message_id for _, _, message_id, _ in message_uses()}
    assert set(messages()) - used == set(), "templates no code uses"
    for template in messages().values():
        if template.rule:
            assert template.rule in rules(), template.message
    # every file-scope rule has a message the readers can raise it with
    file_rules = {r.rule for r in rules().values() if r.scope == "file"}
    assert file_rules <= {t.rule for t in messages().values()}


def test_no_code_builds_an_unreadable_file_from_its_own_text():
    for path in CODE:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        builds = [
            node.lineno
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and _call_name(node) == "UnreadableFile"
        ]
        where = path.relative_to(ROOT)
        # the one place that turns a template into the exception
        expected = 1 if where == Path("instep/readers/core.py") else 0
        assert len(builds) == expected, f"{where}: UnreadableFile(...) at lines {builds}"


def test_a_template_refuses_a_missing_or_unknown_placeholder():
    template = message("too_large.file_size")
    assert template.fill(size=300_000_000, limit=268_435_456) == (
        "the file is 300,000,000 bytes; the limit is 268,435,456 bytes"
    )
    with pytest.raises(ValueError, match="missing: limit"):
        template.fill(size=1)
    with pytest.raises(ValueError, match="unknown: bytes"):
        template.fill(size=1, limit=2, bytes=3)
    with pytest.raises(ValueError, match="missing: limit"):
        template.sql(size="1")


def _sample(template: MessageTemplate) -> dict[str, object]:
    """A value for each placeholder: a number where the template formats one, else a text."""
    values: dict[str, object] = {}
    for name in template.placeholders:
        if "{" + name + ":" in template.template:
            values[name] = 1234567.5
        else:
            values[name] = f"<{name} 'x'>"
    return values


@pytest.mark.parametrize("message_id", sorted(messages()))
def test_the_sql_of_a_template_gives_the_text_python_gives(message_id: str):
    template = messages()[message_id]
    if "!" in template.template.replace("!=", ""):
        with pytest.raises(ValueError, match="conversion"):
            template.sql(**{name: "''" for name in template.placeholders})
        return
    values = _sample(template)
    literals = {
        name: (str(value) if isinstance(value, float) else "'" + str(value).replace("'", "''") + "'")
        for name, value in values.items()
    }
    in_sql = duckdb.sql("SELECT " + template.sql(**literals)).fetchall()[0][0]
    assert in_sql == template.fill(**values)


def test_a_reader_message_is_its_template_filled():
    with pytest.raises(UnreadableFile) as raised:
        read_submission_data("a.csv", b"facility_id,period,metric\nF1,2025-01,x\n")
    assert raised.value.rule == "missing_columns"
    assert raised.value.message == fill(
        "missing_columns.header", missing="value, unit", found="facility_id, period, metric"
    )
