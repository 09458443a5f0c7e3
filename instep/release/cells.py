"""How a value is written in a published CSV cell: one fixed spelling per value, safe in a spreadsheet.

Numbers use the shortest text that reads back to the same double, always in positional notation (no
`1e-05`), and whole numbers carry no trailing `.0`, so the same value is spelt the same way in every
release. Text that a spreadsheet would run as a formula (a cell beginning with `=`, `+`, `-`, `@`, a tab
or a carriage return) gets a leading apostrophe; the Parquet and DuckDB files keep the text unchanged.

`format_column` spells a whole Arrow column at once with the same rules as `format_cell`, and
`csv_text` writes a table the way Python's csv module does with `lineterminator="\n"` (fields quoted
only when they hold a comma, a double quote or a line feed), except that a field holding a carriage
return is quoted as well, so that no reader can take it for the end of a line.
"""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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


def _format_floats(column: pa.Array) -> pa.Array:
    """`format_number` for a float column: whole values through int64, the others by `repr`."""
    values = column.to_numpy(zero_copy_only=False)  # nulls become NaN: both are written empty
    out = np.full(len(values), "", dtype=object)
    finite = np.isfinite(values)
    whole = finite & (np.floor(values) == values) & (np.abs(values) < _EXACT_INTEGER_LIMIT)
    out[whole] = pa.array(values[whole].astype(np.int64)).cast(pa.string()).to_numpy(zero_copy_only=False)
    rest = finite & ~whole
    out[rest] = [format_number(v) if "e" in (t := repr(v)) else t for v in values[rest].tolist()]
    return pa.array(out, pa.string())


def format_column(column: pa.Array) -> pa.Array:
    """Every cell of a column spelt as `format_cell` spells it, as a string array without nulls."""
    kind = column.type
    if pa.types.is_floating(kind):
        return _format_floats(column.cast(pa.float64()))
    if pa.types.is_boolean(kind):
        text = pc.if_else(column, "true", "false")
    elif pa.types.is_integer(kind) or pa.types.is_date(kind):
        text = column.cast(pa.string())
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = column.cast(pa.string())
        risky = pc.match_substring_regex(text, "^[=+\\-@\\t\\r]")
        text = pc.if_else(risky, pc.binary_join_element_wise(NEUTRALISING_PREFIX, text, ""), text)
    else:
        return pa.array([format_cell(v) for v in column.to_pylist()], pa.string())
    return pc.fill_null(text, "")


def quote_field(column: pa.Array) -> pa.Array:
    """CSV quoting of a string column: a field holding `,`, `"`, LF or CR is quoted, quotes doubled."""
    needs = pc.match_substring_regex(column, '[,"\\n\\r]')
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(column, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, column)


def csv_text(names: list[str], table: pa.Table) -> str:
    """The whole CSV file: a header, then one line per row, every line ending in LF."""
    header = ",".join(quote_field(pa.array(names, pa.string())).to_pylist())
    if table.num_rows == 0:
        return header + "\n"
    columns = [quote_field(format_column(table.column(n).combine_chunks())) for n in names]
    if len(columns) == 1:
        # A line of one empty field would be an empty line; Python's csv module writes "" for it.
        columns = [pc.if_else(pc.equal(columns[0], ""), '""', columns[0])]
    lines = pc.binary_join_element_wise(*columns, ",")
    return header + "\n" + "\n".join(lines.to_pylist()) + "\n"
