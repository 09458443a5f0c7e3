"""Writing a file so that a reader sees the old content or the new, never a part of it."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path` (one rename: a crash
    or a concurrent reader leaves the old file or the new one). The temporary name is unique, so
    processes writing the same path at once do not clash."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text_atomically(path: Path, text: str) -> None:
    """`write_atomically` of `text` in UTF-8, line ends as given."""
    write_atomically(path, text.encode("utf-8"))
