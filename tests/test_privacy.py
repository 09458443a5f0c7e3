"""The privacy scan: what must never be published stops a release, and never reaches a published file."""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from instep.metadata.model import Field, Resource
from instep.metadata.resources import FACILITIES, PARKS
from instep.release import PrivacyLeak, publish_release
from instep.release.privacy import Matcher, PrivacyRules, rules_from_warehouse, scan_file
from instep.settings import Settings
from instep.warehouse import connect

if TYPE_CHECKING:
    import pyarrow as pa
from tests.release_helpers import BASE_RESOURCES, RELEASE_DATE, all_published_bytes, prepare

SUBMISSION = (
    "facility_id,period,metric,value,unit,sample_point,sample_date,comment\n"
    "ET-HAW-F001,2024-01,energy.electricity.grid,1000,kWh,,,meter shared with Beta Dyeing next door\n"
    "ET-HAW-F002,2024-01,energy.electricity.grid,2000,kWh,,,call Ms Tesfaye on 0911 000 000 about this\n"
)
COMMENT = "call Ms Tesfaye on 0911 000 000 about this"


@pytest.fixture
def with_comments(workspace: Settings) -> Settings:
    (workspace.inbox_dir / "jan.csv").write_text(SUBMISSION, encoding="utf-8")
    prepare(workspace)
    return workspace


def package_dir(settings: Settings) -> Path:
    return settings.datapackages_dir / settings.package_name


def test_rules_come_from_the_registry_and_the_comments(with_comments: Settings):
    with connect(with_comments) as con:
        rules = rules_from_warehouse(con)
    assert rules.facility_ids == ("ET-HAW-F002",)
    assert rules.facility_names == ("Beta Dyeing",)
    assert COMMENT in rules.comments
    assert rules.sensitive_metrics == ("grievances.gbv.received",)


def test_a_name_planted_in_a_comment_reaches_no_published_file(with_comments: Settings):
    release = publish_release(
        with_comments, version="1.0.0", release_date=RELEASE_DATE, resources=BASE_RESOURCES
    )
    assert release.published
    published = all_published_bytes(package_dir(with_comments))
    assert any(name.endswith(".zip!instep-open-data-1.0.0/data/facilities.csv") for name in published)
    for name, data in published.items():
        for secret in (b"Beta Dyeing", b"ET-HAW-F002", b"Tesfaye", b"next door"):
            assert secret not in data, f"{secret!r} in {name}"


def test_the_scan_stops_a_release_carrying_an_aggregate_only_name(with_comments: Settings):
    with connect(with_comments) as con:
        con.execute("UPDATE pub_parks SET operator = 'Beta  dyeing Ltd' WHERE park_id = 'ET-HAW'")
    with pytest.raises(PrivacyLeak) as error:
        publish_release(with_comments, version="1.0.0", release_date=RELEASE_DATE, resources=BASE_RESOURCES)
    message = str(error.value)
    assert "facility name 'Beta Dyeing'" in message
    assert "data/parks.csv" in message and "data/parks.parquet" in message
    assert "instep-open-data.duckdb" in message
    assert not (package_dir(with_comments) / "1.0.0").exists()
    assert [p.name for p in package_dir(with_comments).iterdir() if p.is_dir()] == []


def test_the_scan_stops_a_release_carrying_a_comment_or_an_aggregate_only_id(with_comments: Settings):
    with connect(with_comments) as con:
        con.execute(f"UPDATE pub_parks SET region = '{COMMENT}' WHERE park_id = 'ET-HAW'")
        con.execute("UPDATE pub_parks SET operator = 'see ET-HAW-F002' WHERE park_id = 'VN-TST'")
    with pytest.raises(PrivacyLeak) as error:
        publish_release(with_comments, version="1.0.0", release_date=RELEASE_DATE, resources=BASE_RESOURCES)
    message = str(error.value)
    assert "submitter comment" in message and "facility id ET-HAW-F002" in message
    assert not (package_dir(with_comments) / "1.0.0").exists()


SENSITIVE = Resource(
    name="facility_grievances",
    title="Facility grievances",
    description="Test resource publishing a sensitive metric per facility.",
    fields=(
        Field("facility_id", "string", "Facility."),
        Field("period", "yearmonth", "Month."),
        Field("grievances_gbv_received", "integer", "Sensitive count."),
    ),
    primary_key=("facility_id", "period"),
)


def test_the_scan_stops_a_sensitive_metric_per_facility(with_comments: Settings):
    with connect(with_comments) as con:
        con.execute(SENSITIVE.duckdb_ddl().replace('"facility_grievances"', '"pub_facility_grievances"'))
        con.execute("INSERT INTO pub_facility_grievances VALUES ('ET-HAW-F001', '2024-01', 0)")
    with pytest.raises(PrivacyLeak, match=r"sensitive metric grievances\.gbv\.received per facility"):
        publish_release(
            with_comments,
            version="1.0.0",
            release_date=RELEASE_DATE,
            resources=(PARKS, FACILITIES, SENSITIVE),
        )
    assert not (package_dir(with_comments) / "1.0.0").exists()


def test_short_generic_comments_and_lookalike_ids_do_not_match(tmp_path: Path):
    rules = PrivacyRules(("ET-HAW-F002",), ("Beta Dyeing",), (), ())
    clean = tmp_path / "clean.csv"
    clean.write_text("id,name\nET-HAW-F0021,Alphabeta Dyeings\n", encoding="utf-8")
    assert scan_file(clean, "clean.csv", rules) == []
    leak = tmp_path / "leak.md"
    leak.write_text("# notes\n\nFrom BETA DYEING (ET-HAW-F002).\n", encoding="utf-8")
    found = scan_file(leak, "leak.md", rules)
    assert [(f.where, f.what) for f in found] == [
        ("line 3", "facility id ET-HAW-F002"),
        ("line 3", "facility name 'Beta Dyeing'"),
    ]


def test_a_name_across_a_line_break_is_found_at_its_line(tmp_path: Path):
    rules = PrivacyRules((), ("Beta Dyeing",), (), ())
    notes = tmp_path / "notes.md"
    notes.write_text("# notes\n\nfirst\nsupplied by beta\ndyeing, later\n", encoding="utf-8")
    assert [(f.where, f.what) for f in scan_file(notes, "notes.md", rules)] == [
        ("line 4", "facility name 'Beta Dyeing'")
    ]


def test_leaks_in_parquet_duckdb_cells_catalogue_and_zip_members_are_found(tmp_path: Path):
    import zipfile

    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    rules = PrivacyRules(("ET-HAW-F002",), ("Beta Dyeing",), (COMMENT,), ("grievances.gbv.received",))
    rows = pa.table(
        {
            "facility_id": ["ET-HAW-F001"] * 3,
            "metric": ["energy.electricity.grid", "grievances.gbv.received", "water.municipal"],
            "note": ["fine", "also fine", f"said: {COMMENT.upper()}"],
        }
    )
    pq.write_table(rows, tmp_path / "rows.parquet")
    found = {(f.where, f.what) for f in scan_file(tmp_path / "rows.parquet", "rows.parquet", rules)}
    assert ("table rows row 2", "sensitive metric grievances.gbv.received per facility") in found
    assert any(w == "table rows row 3 column note, line 1" and "submitter comment" in x for w, x in found)

    db = duckdb.connect(str(tmp_path / "release.duckdb"))
    db.execute("CREATE TABLE parks (park_id VARCHAR)")
    db.execute("INSERT INTO parks VALUES ('ET-HAW')")
    # Outside any cell: only the scan of the raw bytes sees a table comment.
    db.execute("COMMENT ON TABLE parks IS 'operated with Beta Dyeing'")
    db.close()
    found = scan_file(tmp_path / "release.duckdb", "release.duckdb", rules)
    assert [f.what for f in found] == ["facility name 'Beta Dyeing'"]
    assert found[0].where.startswith("raw bytes, ")

    clean = tmp_path / "clean.csv"
    clean.write_text("a,b\n1,2\n", encoding="utf-8")
    archive = tmp_path / "pack.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("pack/clean.csv", "a,b\nsee ET-HAW-F002,2\n")
        handle.writestr("pack/ET-HAW-F002.txt", "")
    found = {(f.where, f.what) for f in scan_file(archive, "pack.zip", rules)}
    assert ("member names, line 2", "facility id ET-HAW-F002") in found
    assert ("member pack/clean.csv, line 2", "facility id ET-HAW-F002") in found


def test_the_matcher_finds_what_every_rule_finds_with_rules_sharing_words():
    """Many aggregate-only names drawn from a few words (as at national scale), more rules than one
    chunk holds: the matcher reports exactly what trying every rule on every text reports."""
    rng = random.Random(7)
    words = ["Yarrow", "Garments", "Denim", "Wave", "Fashions", "Ember", "Apparel", "Knitwear", "Mill"]
    names = sorted({f"{rng.choice(words)} {rng.choice(words)} {rng.randint(1, 40)}" for _ in range(400)})
    ids = tuple(f"ET-HAW-F{n:03d}" for n in range(1, 260))
    comments = ("ask Ms Alemu about the meter", "generator shared with the laundry next door")
    rules = PrivacyRules(ids, tuple(names), comments, ())
    matcher = Matcher(rules)
    assert len(set(matcher.needles)) < len(matcher.needles) / 2  # rules share their rarest word
    assert len(rules.patterns()) > Matcher.CHUNK
    pieces = [*words, *(w.upper() for w in words), *ids[:40], "ET-HAW-F0011", "xET-HAW-F002", "\n", ",", "42"]
    pieces += ["Ask MS alemu about the  meter", "generator shared with the laundry", "İstanbul"]
    texts = [" ".join(rng.choice(pieces) for _ in range(rng.randint(0, 12))) for _ in range(3000)]
    texts += [names[0], f'"{names[1]}",', names[2].upper().replace(" ", "\n"), f"x_{names[3]}_"]
    # Id boundaries are ASCII letters and digits: an accented letter or an underscore next to an id is one.
    texts += ["éET-HAW-F003", "_ET-HAW-F004", "ET-HAW-F005_x", "ET-HAW-F006é", "ET_HAW_F007"]

    def every_rule(text: str) -> list[tuple[int, str]]:
        return [(m.start(), what) for pattern, what in matcher.patterns if (m := pattern.search(text))]

    expected = [every_rule(text) for text in texts]
    assert [matcher.find(text) for text in texts] == expected
    assert sum(map(bool, expected)) > 1000  # most texts name something: the check is not vacuous


@pytest.mark.parametrize("at", [0, 62, 63, 64, 127, 198])
def test_a_name_across_lines_is_found_in_a_file_whose_every_line_is_flagged(tmp_path: Path, at: int):
    rules = PrivacyRules(("ET-HAW-F002",), ("Yarrow Garments 2",), (), ())
    lines = [f"ET-HAW-F{n + 100:03d},Yarrow Public {n}" for n in range(200)]
    lines[at] += ",Yarrow"
    lines[at + 1] = "Garments 2," + lines[at + 1]
    path = tmp_path / "facilities.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    findings = scan_file(path, "data/facilities.csv", rules)
    assert [(f.where, f.what) for f in findings] == [(f"line {at + 1}", "facility name 'Yarrow Garments 2'")]


def test_hundreds_of_comments_at_the_cell_limit_are_scanned_and_still_found(tmp_path: Path):
    # One word of 32,767 characters each, and long sentences: the expressions stay within RE2's limits.
    words = tuple(f"w{index:03d}" * 6553 + "xy" for index in range(300))
    sentences = tuple((f"{index} note about the outflow pump " * 1100)[:32_767] for index in range(5))
    rules = PrivacyRules((), (), words + sentences, ())
    clean = tmp_path / "clean.csv"
    clean.write_text("id,value\nw001w001,1\n", encoding="utf-8")
    assert scan_file(clean, "clean.csv", rules) == []
    leak = tmp_path / "leak.md"
    leak.write_text(f"# notes\n\n{words[7]}\n{sentences[3]}\n", encoding="utf-8")
    found = [(f.where, f.what) for f in scan_file(leak, "leak.md", rules)]
    assert [where for where, _ in found] == ["line 3", "line 4"]
    assert found[0][1].startswith("submitter comment 'w007w007")


class CountingMatcher(Matcher):
    """The scan's matcher, counting what the scan hands it: bytes to the prefilter, characters to the
    exact rules."""

    def __init__(self, rules: PrivacyRules) -> None:
        super().__init__(rules)
        self.prefiltered = 0
        self.searched = 0

    def flagged(self, lowered: pa.Array) -> list[int]:
        import pyarrow.compute as pc

        self.prefiltered += pc.sum(pc.binary_length(lowered)).as_py() or 0
        return super().flagged(lowered)

    def find(self, text: str) -> list[tuple[int, str]]:
        self.searched += len(text)
        return super().find(text)


def test_a_comment_of_megabytes_leaves_the_raw_scan_reading_the_file_at_most_twice(tmp_path: Path):
    """A rejected row keeps its comment whatever its length (the inbox takes a 2 MB JSON string): the
    raw bytes' blocks overlap by the longest rule, and must not copy that overlap for every 64 KB."""
    import duckdb
    import pyarrow as pa

    rules = PrivacyRules((), ("Beta Dyeing",), ("y" * (2 * 1024 * 1024),), ())
    rng = random.Random(3)
    blobs = pa.table({"blob": pa.array([rng.randbytes(64 * 1024) for _ in range(32)], pa.binary())})
    path = tmp_path / "release.duckdb"
    db = duckdb.connect(str(path))
    db.register("random_bytes", blobs)
    db.execute("CREATE TABLE blobs AS SELECT * FROM random_bytes")
    db.execute("COMMENT ON TABLE blobs IS 'operated with Beta Dyeing'")
    db.close()
    size = path.stat().st_size
    assert size > 2 * 1024 * 1024  # more than a block of RAW_BLOCK bytes, less than the overlap
    matcher = CountingMatcher(rules)
    found = [(f.where, f.what) for f in scan_file(path, "release.duckdb", rules, matcher)]
    assert [what for _, what in found] == ["facility name 'Beta Dyeing'"]
    assert found[0][0].startswith("raw bytes, near byte ")
    assert matcher.prefiltered <= 2 * size


@pytest.mark.parametrize("offset", [-12, -5, 0, 3])
def test_a_name_across_the_end_of_a_raw_block_is_found_whatever_the_blocks_length(offset: int):
    from instep.release.privacy import RAW_BLOCK, _scan_raw, raw_blocks

    for longest in (40, 100_000):  # blocks of RAW_BLOCK bytes, and blocks as long as their overlap
        rules = PrivacyRules((), ("Beta Dyeing",), ("z" * longest,), ())
        matcher = Matcher(rules)
        block, overlap = raw_blocks(matcher)
        assert (block == RAW_BLOCK) == (longest == 40) and block >= overlap
        data = bytearray(b"." * (3 * block))
        at = 2 * block + offset
        data[at : at + 11] = b"BETA DYEING"
        found = [(f.where, f.what) for f in _scan_raw("x.duckdb", "", bytes(data), matcher)]
        assert found == [(f"near byte {at}", "facility name 'Beta Dyeing'")], longest


def test_a_comment_of_thousands_of_words_leaves_the_text_scan_reading_each_line_at_most_three_times(
    tmp_path: Path,
):
    """A comment of 10,922 words (32,765 characters, within the cell limit) lets a match span as many
    lines; a file whose every line is flagged is still read a bounded number of times."""
    many_words = " ".join(["ab"] * 10_922)[:32_767]
    rules = PrivacyRules((), ("Yarrow Garments 2",), (many_words,), ())
    lines = [f"ab,Yarrow Public {n}" for n in range(40_000)]
    lines[30_000] += ",Yarrow"
    lines[30_001] = "Garments 2," + lines[30_001]
    text = "\n".join(lines)
    path = tmp_path / "facilities.csv"
    path.write_text(text, encoding="utf-8")
    matcher = CountingMatcher(rules)
    found = [(f.where, f.what) for f in scan_file(path, "data/facilities.csv", rules, matcher)]
    assert found == [("line 30001", "facility name 'Yarrow Garments 2'")]
    assert matcher.searched <= 3 * len(text)
