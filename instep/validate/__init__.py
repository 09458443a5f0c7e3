"""Validate: staged rows prepared, judged by the Great Expectations submission suite and settled.

`prepare` parses the submitted text in DuckDB, `suite` runs the submission suite on it, `messages` words
each failed rule for the factory, `settle` moves every row into exactly one state, and `ledger` holds the
invariants the settled ledger keeps.
"""

from instep.validate.ledger import row_state_counts
from instep.validate.settle import SettleSummary, file_chunks, settle_staged_rows
from instep.validate.suite import SuiteRunner, validate_staged

__all__ = [
    "SettleSummary",
    "SuiteRunner",
    "file_chunks",
    "row_state_counts",
    "settle_staged_rows",
    "validate_staged",
]
