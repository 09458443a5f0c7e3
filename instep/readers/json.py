"""Reading a JSON submission: an object whose "records" member lists one object per row."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal

from instep.readers.core import (
    MAX_COLUMNS,
    MAX_JSON_DEPTH,
    SUBMISSION_COLUMNS,
    SubmissionTable,
    check_header,
    decode_text,
    unreadable,
)


def _json_cell(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


class _Record(dict):
    """A JSON object that remembers the keys it named more than once (json keeps only the last)."""

    def __init__(self, pairs: list[tuple[str, object]]) -> None:
        if len(pairs) > MAX_COLUMNS:
            raise unreadable("too_large.json_keys", keys=len(pairs), limit=MAX_COLUMNS)
        super().__init__(pairs)
        counts = Counter(key.strip().lower() for key, _ in pairs)
        self.duplicates = sorted(name for name, count in counts.items() if count > 1)


def _json_depth(document: object) -> int:
    """The deepest nesting of arrays and objects in a parsed document, without recursion."""
    deepest = 0
    waiting: list[tuple[object, int]] = [(document, 1)]
    while waiting:
        value, depth = waiting.pop()
        if isinstance(value, dict):
            children: Iterable[object] = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, depth)
        if depth <= MAX_JSON_DEPTH:
            waiting.extend((child, depth + 1) for child in children)
    return deepest


_JSON_KIND = {list: "a list", str: "a string", Decimal: "a number", bool: "true or false", type(None): "null"}


def read_json(data: bytes) -> SubmissionTable:
    text = decode_text(data)
    try:
        # Numbers stay exact text (Decimal): no float rounding, and no limit on the digits of integers.
        # The parser is linear in the text; a scan for nesting before it was quadratic on unterminated
        # strings, so the depth is measured on the parsed document.
        document = json.loads(text, parse_float=Decimal, parse_int=Decimal, object_pairs_hook=_Record)
    except json.JSONDecodeError as error:
        raise unreadable("bad_json.syntax", line=error.lineno, column=error.colno, error=error.msg) from None
    except RecursionError:  # the parser's own guard against nesting: it never crashes the run
        raise unreadable("bad_json.too_deep", limit=MAX_JSON_DEPTH) from None
    if _json_depth(document) > MAX_JSON_DEPTH:
        raise unreadable("bad_json.too_deep", limit=MAX_JSON_DEPTH)
    if isinstance(document, _Record) and "records" in document.duplicates:
        # json keeps the last list silently; which one the program meant cannot be known.
        raise unreadable("duplicate_columns.json_records")
    records = document.get("records") if isinstance(document, dict) else None
    if not isinstance(records, list):
        if isinstance(document, dict) and "records" in document:
            raise unreadable("bad_json.records_not_a_list", found=_JSON_KIND.get(type(records), "an object"))
        if isinstance(document, dict):
            raise unreadable("bad_json.no_records_member")
        raise unreadable("bad_json.top_level", found=_JSON_KIND.get(type(document), "something else"))
    if not records:
        raise unreadable("empty_file.no_records")
    keys: set[str] = set()
    for number, record in enumerate(records, start=1):
        if not isinstance(record, _Record):
            # A program wrote this file; a record that is not an object means the program is wrong.
            raise unreadable(
                "bad_json.record_not_an_object",
                record=number,
                found=_JSON_KIND.get(type(record), "something else"),
            )
        if record.duplicates:
            raise unreadable(
                "duplicate_columns.json_record", record=number, keys=", ".join(record.duplicates)
            )
        keys.update(str(key).strip().lower() for key in record)
    check_header(sorted(keys))
    table = SubmissionTable(format="json", ignored_columns=tuple(sorted(keys - set(SUBMISSION_COLUMNS))))
    for row_number, record in enumerate(records, start=1):
        lowered = {str(key).strip().lower(): value for key, value in record.items()}
        table.append(
            row_number,
            {name: _decimal_text(lowered.get(name)) for name in SUBMISSION_COLUMNS},
        )
    return table


def _decimal_text(value: object) -> str | None:
    if isinstance(value, Decimal):
        return str(value)
    return _json_cell(value)
