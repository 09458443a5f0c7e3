"""The privacy scan every release passes before it is published.

It looks through every file about to be published (text files as text; Parquet and DuckDB files by their
decoded cells and, for DuckDB, also by their raw bytes; the zip by its members) for:

- ids and names of facilities published only in aggregates (`aggregate_only` in the registry);
- submitters' comment text (`submission_rows.comment`), which is never published; comments shorter
  than MIN_COMMENT_CHARS are too generic to identify anyone and would match ordinary words;
- sensitive metrics per facility: a column named after a sensitive metric, or a `metric` cell holding
  one, in any resource keyed by facility.

Any finding stops the release with a message naming the file, where, and what was found.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from instep.reference import metrics

MIN_COMMENT_CHARS = 12
TEXT_SUFFIXES = {".csv", ".json", ".md", ".cff", ".bib", ".txt", ""}


class PrivacyLeak(RuntimeError):
    pass


@dataclass(frozen=True)
class Finding:
    file: str
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.file} ({self.where}): {self.what}"


@dataclass(frozen=True)
class PrivacyRules:
    """What must never be published, read from the warehouse."""

    facility_ids: tuple[str, ...]
    facility_names: tuple[str, ...]
    comments: tuple[str, ...]
    sensitive_metrics: tuple[str, ...]

    def patterns(self) -> list[tuple[re.Pattern[str], str]]:
        out: list[tuple[re.Pattern[str], str]] = []
        for fid in self.facility_ids:
            out.append(
                (re.compile(rf"(?<![A-Za-z0-9]){re.escape(fid)}(?![A-Za-z0-9])"), f"facility id {fid}")
            )
        for name in self.facility_names:
            words = r"\s+".join(re.escape(w) for w in name.split())
            out.append((re.compile(rf"(?i:(?<!\w){words}(?!\w))"), f"facility name {name!r}"))
        for comment in self.comments:
            words = r"\s+".join(re.escape(w) for w in comment.split())
            out.append((re.compile(rf"(?i:{words})"), f"submitter comment {_short(comment)!r}"))
        return out


class Matcher:
    """Finds what must not be published in a text; says which rule matched and where.

    Short texts (cells) go through one combined expression first; long texts (whole files) are first
    checked for a literal word of each pattern, which is much faster than a large alternation.
    """

    LONG_TEXT = 10_000

    def __init__(self, rules: PrivacyRules) -> None:
        self.patterns = rules.patterns()
        self.needles = [
            _needle(text) for text in (*rules.facility_ids, *rules.facility_names, *rules.comments)
        ]
        self.any = re.compile("|".join(p.pattern for p, _ in self.patterns)) if self.patterns else None

    def find(self, text: str) -> Iterator[tuple[int, str]]:
        if self.any is None:
            return
        if len(text) > self.LONG_TEXT:
            lowered = text.lower()
            candidates = [
                p for p, needle in zip(self.patterns, self.needles, strict=True) if needle in lowered
            ]
        elif self.any.search(text):
            candidates = self.patterns
        else:
            return
        for pattern, what in candidates:
            match = pattern.search(text)
            if match:
                yield match.start(), what


def _needle(text: str) -> str:
    """The longest word of a pattern's text, lower-cased: present in any text the pattern matches."""
    return max(text.split(), key=len).lower()


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()[
            0
        ]
    )


def rules_from_warehouse(con: duckdb.DuckDBPyConnection) -> PrivacyRules:
    ids: list[str] = []
    names: list[str] = []
    if _table_exists(con, "facilities"):
        for fid, name in con.execute(
            "SELECT facility_id, name FROM facilities WHERE disclosure = 'aggregate_only' "
            "ORDER BY facility_id"
        ).fetchall():
            ids.append(fid)
            if name and name.strip():
                names.append(" ".join(name.split()))
    comments: list[str] = []
    if _table_exists(con, "submission_rows"):
        rows = con.execute(
            "SELECT DISTINCT trim(comment) FROM submission_rows WHERE comment IS NOT NULL ORDER BY 1"
        ).fetchall()
        comments = [
            " ".join(c.split()) for (c,) in rows if c and len(" ".join(c.split())) >= MIN_COMMENT_CHARS
        ]
    sensitive = tuple(code for code, metric in sorted(metrics().items()) if metric.sensitive)
    return PrivacyRules(tuple(ids), tuple(names), tuple(comments), sensitive)


def _metric_slug(code: str) -> str:
    return code.replace(".", "_")


def _scan_text(file: str, where: str, text: str, patterns: Matcher) -> Iterator[Finding]:
    for start, what in patterns.find(text):
        yield Finding(file, f"{where}line {text.count(chr(10), 0, start) + 1}", what)


def _scan_rows(
    file: str, table: str, columns: list[str], rows: Iterable[tuple], rules: PrivacyRules, patterns
) -> Iterator[Finding]:
    facility_level = "facility_id" in columns
    if facility_level:
        for column in columns:
            for code in rules.sensitive_metrics:
                if _metric_slug(code) in column:
                    yield Finding(
                        file, f"table {table}", f"column {column} of sensitive metric {code} per facility"
                    )
    metric_index = columns.index("metric") if facility_level and "metric" in columns else None
    for number, row in enumerate(rows, start=1):
        if metric_index is not None and row[metric_index] in rules.sensitive_metrics:
            yield Finding(
                file, f"table {table} row {number}", f"sensitive metric {row[metric_index]} per facility"
            )
        for column, value in zip(columns, row, strict=True):
            if isinstance(value, str):
                yield from _scan_text(file, f"table {table} row {number} column {column}, ", value, patterns)


def scan_file(path: Path, name: str, rules: PrivacyRules) -> list[Finding]:
    patterns = Matcher(rules)
    findings: list[Finding] = []
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        table = pq.read_table(path)
        columns = table.column_names
        rows = zip(*(table.column(c).to_pylist() for c in columns), strict=True) if columns else iter(())
        findings += _scan_rows(name, path.stem, columns, rows, rules, patterns)
        metadata = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
        findings += _scan_text(name, "schema metadata, ", json.dumps(metadata, ensure_ascii=False), patterns)
    elif suffix == ".duckdb":
        con = duckdb.connect(str(path), read_only=True)
        try:
            tables = [
                t
                for (t,) in con.execute(
                    "SELECT table_name FROM information_schema.tables ORDER BY 1"
                ).fetchall()
            ]
            for table in tables:
                result = con.execute(f'SELECT * FROM "{table}"')
                columns = [d[0] for d in result.description]
                findings += _scan_rows(name, table, columns, result.fetchall(), rules, patterns)
        finally:
            con.close()
        # Raw bytes too: anything stored outside the tables' cells (or left in free space) counts.
        findings += _scan_text(name, "raw bytes, ", path.read_bytes().decode("latin-1"), patterns)
    elif suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                data = archive.read(member)
                if Path(member).suffix.lower() in TEXT_SUFFIXES:
                    findings += _scan_text(
                        name, f"member {member}, ", data.decode("utf-8", "replace"), patterns
                    )
                else:
                    findings += _scan_text(name, f"member {member} bytes, ", data.decode("latin-1"), patterns)
    else:
        findings += _scan_text(name, "", path.read_bytes().decode("utf-8", "replace"), patterns)
    return findings


def scan_release(directory: Path, rules: PrivacyRules, names: Iterable[str] | None = None) -> list[Finding]:
    names = (
        sorted(names)
        if names is not None
        else sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())
    )
    findings: list[Finding] = []
    for name in names:
        findings += scan_file(directory / name, name, rules)
    return findings


def check_release(directory: Path, rules: PrivacyRules, names: Iterable[str] | None = None) -> None:
    """Raise PrivacyLeak listing every finding; return quietly when the files are clean."""
    findings = scan_release(directory, rules, names)
    if findings:
        listed = "\n".join(f"  - {f}" for f in findings[:50])
        more = f"\n  ... and {len(findings) - 50} more" if len(findings) > 50 else ""
        raise PrivacyLeak(
            f"privacy scan failed: {len(findings)} finding(s) in the release about to be published; "
            f"nothing was published.\n{listed}{more}"
        )
