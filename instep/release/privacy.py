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

import hashlib
import json
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from instep.reference import metrics

MIN_COMMENT_CHARS = 12
# Characters of a rule's needle kept for the prefilter (see Matcher).
NEEDLE_CHARS = 64
# Lines of text the exact rules read at a time (see _scan_text).
WINDOW_LINES = 64
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

    def patterns(self) -> list[tuple[LazyPattern, str]]:
        out: list[tuple[LazyPattern, str]] = []
        for fid in self.facility_ids:
            out.append(
                (LazyPattern(rf"(?<![A-Za-z0-9]){re.escape(fid)}(?![A-Za-z0-9])"), f"facility id {fid}")
            )
        for name in self.facility_names:
            words = r"\s+".join(re.escape(w) for w in name.split())
            out.append((LazyPattern(rf"(?i:(?<!\w){words}(?!\w))"), f"facility name {name!r}"))
        for comment in self.comments:
            words = r"\s+".join(re.escape(w) for w in comment.split())
            out.append((LazyPattern(rf"(?i:{words})"), f"submitter comment {_short(comment)!r}"))
        return out


class LazyPattern:
    """An expression compiled when first searched with.

    Compiling costs time in the length of the rule (a fifth of a second for a 32,767-character comment),
    and most rules are never tried: only those whose needle a published text holds (see Matcher).
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self._compiled: re.Pattern[str] | None = None

    def search(self, text: str) -> re.Match[str] | None:
        if self._compiled is None:
            self._compiled = re.compile(self.source)
        return self._compiled.search(text)


class Matcher:
    """Finds what must not be published; says which rule matched and where.

    Two stages, so that the cost grows with the size of the release and not with (size x rules):

    1. A prefilter over many texts at once (Arrow arrays: cells of a column, lines of a file, blocks of
       raw bytes): one literal word of every rule (its *needle*), lower-cased, in alternations that
       RE2 runs as a small automaton over the lower-cased UTF-8 bytes. Any text the rule matches
       contains its needle, so a text the prefilter passes cannot match any rule.
    2. The exact rules (Python expressions) on the texts the prefilter flags, which name the rule. A
       text is tried only against the rules it can match, found without trying every rule: facility ids
       and names by their sequence of words (the text's words looked up in a table of the rules'
       sequences: a match is the rule's words in a row, between word boundaries), comments by their
       needle. The work grows with the text, not with (flagged texts x rules): in a large programme
       every line naming a public facility that shares a word with an aggregate-only one is flagged.
    """

    # Alternatives per RE2 expression: more make its automaton outgrow RE2's memory budget, after which
    # it falls back to a far slower engine.
    CHUNK = 100
    # ... and at most about this many characters of pattern: RE2 refuses a larger one ("pattern too
    # large"), and the release would stop on comments the pipeline accepted.
    CHUNK_CHARS = 8_000

    def __init__(self, rules: PrivacyRules) -> None:
        self.patterns = rules.patterns()
        texts = (*rules.facility_ids, *rules.facility_names, *rules.comments)
        self.needles = _needles(texts)
        # Words a match spans: a match of a rule of n words crosses at most n - 1 line breaks.
        self.span = max((len(t.split()) for t in texts), default=1)
        self.longest = max((len(t) for t in texts), default=0)
        variants: set[bytes] = set()
        for needle, text in zip(self.needles, texts, strict=True):
            # Raw bytes are lower-cased as ASCII only: add the spellings of the needle as written too.
            original = next(w for w in text.split() if w.lower() == needle)
            for form in (needle, original, original.upper(), original.title()):
                # A prefix of the needle is a needle too (a text holding the word holds its prefix): a
                # bounded one keeps a comment that is one 32,767-character word from making the
                # expression too large for RE2.
                variants.add(form[:NEEDLE_CHARS].encode("utf-8").lower())
        self.needles = [needle[:NEEDLE_CHARS] for needle in self.needles]
        self.prefilters = []
        alternatives: list[str] = []
        for variant in sorted(variants):
            alternatives.append(_escape_bytes(variant))
            if len(alternatives) == self.CHUNK or sum(map(len, alternatives)) >= self.CHUNK_CHARS:
                self.prefilters.append("|".join(alternatives))
                alternatives = []
        if alternatives:
            self.prefilters.append("|".join(alternatives))
        # Stage 2: ids by their ASCII words (an id's boundaries are ASCII letters and digits), names by
        # their words, comments (which may start or end inside a word) by their needle.
        ids, names = len(rules.facility_ids), len(rules.facility_names)
        self.id_words = _WordSequences(_ASCII_WORD, rules.facility_ids, first_rule=0)
        self.name_words = _WordSequences(_WORD, rules.facility_names, first_rule=ids)
        self.comment_needles = list(enumerate(self.needles[ids + names :], start=ids + names))

    def flagged(self, lowered: pa.Array) -> list[int]:
        """Indices of the lower-cased texts (binary array) that hold a needle."""
        if not self.prefilters or len(lowered) == 0:
            return []
        mask = None
        for pattern in self.prefilters:
            hit = pc.match_substring_regex(lowered, pattern)
            mask = hit if mask is None else pc.or_(mask, hit)
        return pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist()

    def flagged_strings(self, texts: pa.Array) -> list[int]:
        if not self.prefilters or len(texts) == 0:
            return []
        lowered = pc.utf8_lower(texts.cast(pa.large_string()))
        return self.flagged(lowered.cast(pa.large_binary()))

    def find(self, text: str) -> list[tuple[int, str]]:
        """The exact rules on one text: (offset of the first match, what) for every rule that matches,
        in the order of the rules."""
        lowered = text.lower()
        candidates = self.id_words.rules_in(lowered) | self.name_words.rules_in(lowered)
        candidates.update(rule for rule, needle in self.comment_needles if needle in lowered)
        found = []
        for rule in sorted(candidates):
            pattern, what = self.patterns[rule]
            match = pattern.search(text)
            if match:
                found.append((match.start(), what))
        return found


_WORD = re.compile(r"[^\W_]+")
_ASCII_WORD = re.compile(r"[a-z0-9]+")


class _WordSequences:
    """Rules looked up by their sequence of words: `rules_in(lowered)` gives every rule whose words
    stand in a row in the lower-cased text, the only places its expression can match, in time that
    grows with the text's words (one look-up per word and rule length), not with the rules."""

    def __init__(self, word: re.Pattern[str], texts: Sequence[str], first_rule: int) -> None:
        self._word = word
        self._rules: dict[tuple[str, ...], list[int]] = {}
        for offset, text in enumerate(texts):
            words = tuple(word.findall(text.lower()))
            self._rules.setdefault(words, []).append(first_rule + offset)
        self._lengths = sorted({len(words) for words in self._rules})
        self._first_words = {words[0] for words in self._rules if words}
        # A rule with no word at all (an id of punctuation only) cannot be looked up: it is always tried.
        self._always = set(self._rules.get((), []))

    def rules_in(self, lowered: str) -> set[int]:
        found = set(self._always)
        if not self._first_words:
            return found
        words = self._word.findall(lowered)
        for start, first in enumerate(words):
            if first not in self._first_words:
                continue
            for length in self._lengths:
                if length and start + length <= len(words):
                    found.update(self._rules.get(tuple(words[start : start + length]), ()))
        return found


def _needles(texts: Sequence[str]) -> list[str]:
    """Per rule text the word to look for first: a word of at least four characters with a letter if
    there is one (short words and numbers occur everywhere in data), the rarest among all rules, then
    the longest. Any word is correct (a match contains every word of its rule); these flag fewer texts.
    """
    counts = Counter(w.lower() for t in texts for w in set(t.split()))

    def preference(word: str) -> tuple[bool, int, int, str]:
        weak = len(word) < 4 or not any(c.isalpha() for c in word)
        return (weak, counts[word.lower()], -len(word), word)

    return [min(t.split(), key=preference).lower() for t in texts]


def _escape_bytes(data: bytes) -> str:
    """A literal for RE2 in binary (Latin-1) mode: printable ASCII escaped as usual, other bytes as hex."""
    return "".join(re.escape(chr(b)) if 0x20 < b < 0x7F else f"\\x{b:02x}" for b in data)


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


def _first_per_rule(found: Iterator[tuple[str, str]], matcher: Matcher) -> list[tuple[str, str]]:
    """The first place of each rule found, in the order of the rules."""
    first: dict[str, str] = {}
    for where, what in found:
        first.setdefault(what, where)
    return [(first[what], what) for _, what in matcher.patterns if what in first]


def _scan_text(file: str, where: str, text: str, matcher: Matcher) -> Iterator[Finding]:
    """A text file: its lines through the prefilter, then the exact rules around the flagged lines."""
    lines = text.split("\n")
    flagged = matcher.flagged_strings(pa.array(lines, pa.large_string()))
    if not flagged:
        return
    # A match can cross line breaks (words separated by any white space): check a window around each
    # flagged line wide enough for the longest rule, merged into ranges of lines, and the ranges cut
    # into windows (plus the span on either side, so a match across a cut is whole in one window).
    # Unbounded windows would make a file whose every line is flagged cost (lines x rules); windows
    # shorter than the span (a comment of thousands of words) would read each line many times over, so
    # a window holds WINDOW_LINES lines or the span, whichever is more: every line is read at most three
    # times.
    span = matcher.span
    ranges: list[list[int]] = []
    for index in flagged:
        low, high = max(0, index - span), min(len(lines), index + span + 1)
        if ranges and low <= ranges[-1][1]:
            ranges[-1][1] = max(ranges[-1][1], high)
        else:
            ranges.append([low, high])
    window_lines = max(WINDOW_LINES, span)
    bounds = [
        (max(low, start - span), min(high, start + window_lines + span))
        for low, high in ranges
        for start in range(low, high, window_lines)
    ]

    def found() -> Iterator[tuple[str, str]]:
        for low, high in bounds:
            window = "\n".join(lines[low:high])
            for start, what in matcher.find(window):
                yield f"{where}line {low + window.count(chr(10), 0, start) + 1}", what

    for place, what in _first_per_rule(found(), matcher):
        yield Finding(file, place, what)


RAW_BLOCK = 1 << 16


def raw_blocks(matcher: Matcher) -> tuple[int, int]:
    """(block, overlap): the bytes between the starts of consecutive raw blocks, and how far each block
    reaches into the next.

    The overlap is the longest rule's bytes (four per character in UTF-8), so that a match across a
    block's end is whole in the block. It grows with the rules (a rejected row keeps its comment, which
    may be megabytes), so a block is at least as long as its overlap: the blocks hold at most twice the
    file's bytes, never (file size / RAW_BLOCK) x overlap.
    """
    overlap = 4 * matcher.longest + 64
    return max(RAW_BLOCK, overlap), overlap


def _scan_raw(file: str, where: str, data: bytes, matcher: Matcher) -> Iterator[Finding]:
    """Bytes that are not text (a database file): overlapping blocks (`raw_blocks`) through the
    prefilter, then the exact rules on each flagged block, read as UTF-8 and as Latin-1."""
    block, overlap = raw_blocks(matcher)
    starts = list(range(0, max(len(data), 1), block))
    blocks = [data[s : s + block + overlap] for s in starts]
    flagged = matcher.flagged(pa.array([b.lower() for b in blocks], pa.large_binary()))

    def found() -> Iterator[tuple[str, str]]:
        for index in flagged:
            for encoding in ("utf-8", "latin-1"):
                for start, what in matcher.find(blocks[index].decode(encoding, "replace")):
                    yield f"{where}near byte {starts[index] + start}", what

    for place, what in _first_per_rule(found(), matcher):
        yield Finding(file, place, what)


def _scan_table(
    file: str, table: str, data: pa.Table, rules: PrivacyRules, matcher: Matcher
) -> Iterator[Finding]:
    """Decoded cells, column by column: the prefilter over a whole column, the rules on flagged cells."""
    columns = data.column_names
    facility_level = "facility_id" in columns
    if facility_level:
        for column in columns:
            for code in rules.sensitive_metrics:
                if _metric_slug(code) in column:
                    yield Finding(
                        file, f"table {table}", f"column {column} of sensitive metric {code} per facility"
                    )
    yield from _scan_text(file, f"table {table} column names, ", "\n".join(columns), matcher)
    if facility_level and "metric" in columns and rules.sensitive_metrics:
        metric = data.column("metric").combine_chunks()
        hits = pc.is_in(metric.cast(pa.large_string()), pa.array(rules.sensitive_metrics, pa.large_string()))
        for index in pc.indices_nonzero(pc.fill_null(hits, False)).to_pylist():
            yield Finding(
                file,
                f"table {table} row {index + 1}",
                f"sensitive metric {metric[index].as_py()} per facility",
            )
    for column in columns:
        values = data.column(column).combine_chunks()
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            continue
        for index in matcher.flagged_strings(values):
            text = values[index].as_py()
            for start, what in matcher.find(text):
                line = text.count("\n", 0, start) + 1
                yield Finding(file, f"table {table} row {index + 1} column {column}, line {line}", what)


def _scan_zip(
    path: Path, name: str, matcher: Matcher, clean: Mapping[str, bytes] | None
) -> Iterator[Finding]:
    """Member names and comment as text; a member byte-identical to a file this scan already passed
    (`clean`: relative path -> SHA-256) is not read twice, any other member is scanned like a file."""
    with zipfile.ZipFile(path) as archive:
        yield from _scan_text(name, "member names, ", "\n".join(archive.namelist()), matcher)
        yield from _scan_text(name, "comment, ", archive.comment.decode("utf-8", "replace"), matcher)
        for member in archive.namelist():
            data = archive.read(member)
            inner = member.split("/", 1)[1] if "/" in member else member
            if clean is not None and clean.get(inner) == hashlib.sha256(data).digest():
                continue
            if Path(member).suffix.lower() in TEXT_SUFFIXES:
                yield from _scan_text(name, f"member {member}, ", data.decode("utf-8", "replace"), matcher)
            else:
                yield from _scan_raw(name, f"member {member} bytes, ", data, matcher)


def scan_file(
    path: Path,
    name: str,
    rules: PrivacyRules,
    matcher: Matcher | None = None,
    clean: Mapping[str, bytes] | None = None,
) -> list[Finding]:
    matcher = matcher or Matcher(rules)
    findings: list[Finding] = []
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        table = pq.read_table(path)
        findings += _scan_table(name, path.stem, table, rules, matcher)
        metadata = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
        findings += _scan_text(name, "schema metadata, ", json.dumps(metadata, ensure_ascii=False), matcher)
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
                data = con.sql(f'SELECT * FROM "{table}"').to_arrow_table()
                findings += _scan_table(name, table, data, rules, matcher)
        finally:
            con.close()
        # Raw bytes too: anything stored outside the tables' cells (or left in free space) counts.
        findings += _scan_raw(name, "raw bytes, ", path.read_bytes(), matcher)
    elif suffix == ".zip":
        findings += _scan_zip(path, name, matcher, clean)
    else:
        findings += _scan_text(name, "", path.read_bytes().decode("utf-8", "replace"), matcher)
    return findings


def scan_release(directory: Path, rules: PrivacyRules, names: Iterable[str] | None = None) -> list[Finding]:
    """Every file once; zips last, so that members identical to files already passed are not reread."""
    names = (
        sorted(names)
        if names is not None
        else sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())
    )
    matcher = Matcher(rules)
    findings: list[Finding] = []
    clean: dict[str, bytes] = {}
    for name in sorted(names, key=lambda n: (n.lower().endswith(".zip"), n)):
        path = directory / name
        found = scan_file(path, name, rules, matcher, clean)
        if not found and not name.lower().endswith(".zip"):
            clean[name] = _sha256(path)
        findings += found
    return findings


def _sha256(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.digest()


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
