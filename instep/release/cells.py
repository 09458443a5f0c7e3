"""How a value is written in a published CSV cell: one fixed spelling per value, safe in a spreadsheet.

Numbers use the shortest text that reads back to the same double, always in positional notation (no
`1e-05`), and whole numbers carry no trailing `.0`, so the same value is spelt the same way in every
release. Text that a spreadsheet would run as a formula (a cell beginning with `=`, `+`, `-`, `@`, a tab
or a carriage return) gets a leading apostrophe; the Parquet and DuckDB files keep the text unchanged.
"""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np

# Characters that make spreadsheet programs treat a cell as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NEUTRALISING_PREFIX = "'"

# Below this magnitude a whole double is written as an integer; above it, floats are not exact integers.
_EXACT_INTEGER_LIMIT = 2.0**53


def neutralise_text(text: str) -> str:
    """Prefix an apostrophe to text a spreadsheet would evaluate; other text is returned unchanged."""
    if text.startswith(FORMULA_TRIGGERS):
        return NEUTRALISING_PREFIX + text
    return text


def format_number(value: float) -> str:
    """Shortest round-trip positional spelling; NaN and infinities are not data and are written empty."""
    if math.isnan(value) or math.isinf(value):
        return ""
    if value == 0:
        return "0"  # also for -0.0
    if value.is_integer() and abs(value) < _EXACT_INTEGER_LIMIT:
        return str(int(value))
    text = repr(value)
    if "e" in text or "E" in text:
        text = np.format_float_positional(value, unique=True, trim="-")
    return text


def format_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return neutralise_text(str(value))
