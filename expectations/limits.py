"""Limits that the rules state, read by the readers and the suites alike."""

# Excel's own limit for the text of one cell; a longer cell is rejected with its row (cell_too_long).
MAX_CELL_CHARS = 32_767
