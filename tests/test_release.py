"""Releases: valid Frictionless packages, byte-reproducible, immutable, atomic, with a changelog."""

from __future__ import annotations

import csv
import filecmp
import json
import subprocess
import zipfile
from pathlib import Path

import duckdb
import frictionless
import pytest

from instep.metadata.model import Field, ForeignKey, Resource
from instep.metadata.resources import CHANGES, FACILITIES, PARKS
from instep.release import (
    ReleaseConflict,
    default_version,
    latest_version,
    publish_release,
    read_index,
    resolve_release_date,
)
from instep.release import writer as release_writer
from instep.release.cells import format_cell, format_number
from instep.release.checksums import read_sums, release_files, sha256_file
from instep.settings import REPO_ROOT, Settings
from instep.warehouse import connect
from tests.release_helpers import BASE_RESOURCES, RELEASE_DATE, prepare

FRICTIONLESS = REPO_ROOT / ".venv" / "bin" / "frictionless"


@pytest.fixture
def prepared(workspace: Settings) -> Settings:
    prepare(workspace)
    return workspace


def publish(settings: Settings, version: str = "1.0.0", resources=BASE_RESOURCES, **kwargs):
    return publish_release(
        settings, version=version, release_date=kwargs.pop("release_date", RELEASE_DATE), resources=resources
    )


def test_package_validates_with_frictionless_and_loads_everywhere(prepared: Settings):
    release = publish(prepared)
    descriptor_path = release.path / "datapackage.json"
    # The official command line, as a user would run it.
    cli = subprocess.run(
        [str(FRICTIONLESS), "validate", "datapackage.json"],
        cwd=release.path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr
    # The Python API: the package as a whole and each CSV resource on its own.
    report = frictionless.validate(str(descriptor_path))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    package = frictionless.Package(str(descriptor_path))
    assert [r.name for r in package.resources] == [r.name for r in (*BASE_RESOURCES, CHANGES)]
    for resource in package.resources:
        assert resource.validate().valid, resource.name
    parks = package.get_resource("parks").read_rows()
    assert [row["park_id"] for row in parks] == ["ET-HAW", "VN-TST"]

    descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
    assert descriptor["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"
    assert descriptor["licenses"][0]["name"] == "CC-BY-4.0"
    assert descriptor["version"] == "1.0.0" and descriptor["created"] == "2026-11-25T00:00:00Z"
    assert descriptor["synthetic"] is True and "synthetic" in descriptor["title"]
    assert any("IPCC" in s["title"] for s in descriptor["sources"])
    assert any("ZDHC" in s["title"] for s in descriptor["sources"])
    provenance = descriptor["provenance"]
    assert provenance["gwp_set"] == "ar5" and provenance["rubric_version"] == 1
    assert set(provenance["reference_files"]) >= {"instep/reference/fuels.csv", "instep/reference/gwp.csv"}
    facilities = next(r for r in descriptor["resources"] if r["name"] == "facilities")
    assert facilities["schema"]["primaryKey"] == ["facility_id"]
    assert facilities["schema"]["foreignKeys"][0]["reference"] == {"resource": "parks", "fields": ["park_id"]}
    assert facilities["hash"] == "sha256:" + sha256_file(release.path / "data" / "facilities.csv")
    assert facilities["bytes"] == (release.path / "data" / "facilities.csv").stat().st_size
    lat = next(f for f in descriptor["resources"][0]["schema"]["fields"] if f["name"] == "lat")
    assert lat["unit"] == "degree" and lat["type"] == "number"

    # Parquet through DuckDB, and the release database with the same tables and rows.
    con = duckdb.connect()
    for name, rows in release.rows.items():
        parquet = release.path / "data" / f"{name}.parquet"
        assert con.execute(f"SELECT count(*) FROM read_parquet('{parquet}')").fetchone()[0] == rows
    con.close()
    db = duckdb.connect(str(release.path / "instep-open-data.duckdb"), read_only=True)
    try:
        for name, rows in release.rows.items():
            assert db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] == rows
        key = db.execute(
            "SELECT constraint_column_names FROM duckdb_constraints() "
            "WHERE table_name = 'facilities' AND constraint_type = 'PRIMARY KEY'"
        ).fetchone()[0]
        assert key == ["facility_id"]
    finally:
        db.close()

    # Only public facilities; the aggregate-only one is in no file.
    assert [row["facility_id"] for row in package.get_resource("facilities").read_rows()] == [
        "ET-HAW-C001",
        "ET-HAW-F001",
        "VN-TST-F001",
    ]


def test_checksums_zip_index_and_latest(prepared: Settings):
    release = publish(prepared)
    sums = read_sums(release.path / "SHA256SUMS")
    assert set(sums) == set(release_files(release.path)) - {"SHA256SUMS", "SHA256SUMS.sig", "signing-key.pub"}
    for name, digest in sums.items():
        assert sha256_file(release.path / name) == digest
    with zipfile.ZipFile(release.zip_path) as archive:
        names = archive.namelist()
        assert names == sorted(names)
        assert {n.split("/", 1)[1] for n in names} == set(sums) - {release.zip_path.name}
        assert {info.date_time for info in archive.infolist()} == {(2026, 11, 25, 0, 0, 0)}
    package = prepared.datapackages_dir / prepared.package_name
    entry = read_index(package)[0]
    assert entry["version"] == "1.0.0" and entry["date"] == RELEASE_DATE
    assert entry["datapackage_sha256"] == sha256_file(release.path / "datapackage.json")
    assert entry["zip_sha256"] == sha256_file(release.zip_path)
    assert entry["rows"]["parks"] == 2
    assert latest_version(package) == "1.0.0"
    # latest.json: the stable address tools follow, every path relative to the package folder.
    latest = json.loads((package / "latest.json").read_text(encoding="utf-8"))
    assert latest == {"package": "instep-open-data", **entry}
    assert sha256_file(package / latest["datapackage"]) == latest["datapackage_sha256"]
    assert sha256_file(package / latest["path"] / latest["zip"]) == latest["zip_sha256"]
    for pointer in ("checksums", "signature", "signing_key"):
        assert (package / latest[pointer]).is_file(), pointer
    assert (package / "signing-key.pub").read_bytes() == (package / latest["signing_key"]).read_bytes()
    assert (release.path / "CITATION.cff").read_text(encoding="utf-8").startswith("cff-version: 1.2.0")
    assert "@misc{instep_open_data_1_0_0," in (release.path / "CITATION.bib").read_text(encoding="utf-8")


def test_two_builds_from_the_same_inputs_are_byte_identical(prepared: Settings, tmp_path: Path):
    first = publish(prepared.with_(datapackages_dir=tmp_path / "one"))
    second = publish(prepared.with_(datapackages_dir=tmp_path / "two"))
    names = release_files(first.path)
    assert names == release_files(second.path)
    assert {"instep-open-data.duckdb", "instep-open-data-1.0.0.zip", "SHA256SUMS"} <= set(names)
    different = [n for n in names if not filecmp.cmp(first.path / n, second.path / n, shallow=False)]
    assert different == []
    descriptor = json.loads((first.path / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["database"]["byte_reproducible"] is True


def test_republishing_a_version_same_content_is_a_no_op_changed_content_fails(prepared: Settings):
    first = publish(prepared)
    before = {n: sha256_file(first.path / n) for n in release_files(first.path)}
    again = publish(prepared)
    assert again.published is False and again.path == first.path
    assert {n: sha256_file(first.path / n) for n in release_files(first.path)} == before

    with connect(prepared) as con:
        con.execute("UPDATE pub_parks SET name = 'Renamed Lakeside Park' WHERE park_id = 'ET-HAW'")
    with pytest.raises(ReleaseConflict) as error:
        publish(prepared)
    message = str(error.value)
    assert "1.0.0 is already published with different content" in message
    assert "data/parks.csv" in message and "data/parks.parquet" in message
    assert "data/metrics.csv" not in message
    assert {n: sha256_file(first.path / n) for n in release_files(first.path)} == before
    assert [p.name for p in first.path.parent.iterdir() if p.name.startswith(".1.0.0")] == []


def test_a_crash_while_writing_leaves_no_partial_release(prepared: Settings, monkeypatch):
    publish(prepared)
    package = prepared.datapackages_dir / prepared.package_name
    index_before = (package / "releases.json").read_bytes()

    def crash(*args, **kwargs):
        raise RuntimeError("disk full (injected)")

    monkeypatch.setattr(release_writer, "write_database", crash)
    with connect(prepared) as con:
        con.execute("UPDATE pub_parks SET area_ha = 301 WHERE park_id = 'ET-HAW'")
    with pytest.raises(RuntimeError, match="injected"):
        publish(prepared, version="1.1.0")
    assert sorted(p.name for p in package.iterdir() if p.is_dir()) == ["1.0.0"]
    assert (package / "releases.json").read_bytes() == index_before
    assert latest_version(package) == "1.0.0"


def test_staging_left_by_a_killed_publisher_is_removed_by_the_next_one(prepared: Settings):
    publish(prepared)
    package = prepared.datapackages_dir / prepared.package_name
    leftover = package / ".1.1.0.partial-999999"
    (leftover / "data").mkdir(parents=True)
    (leftover / "data" / "parks.csv").write_text("park_id\n", encoding="utf-8")
    with connect(prepared) as con:
        con.execute("UPDATE pub_parks SET area_ha = 301 WHERE park_id = 'ET-HAW'")
    second = publish(prepared, version="1.1.0")
    assert second.published
    assert sorted(p.name for p in package.iterdir() if p.is_dir()) == ["1.0.0", "1.1.0"]


def test_automatic_version_is_the_release_date_and_never_overwrites(prepared: Settings, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01T00:00:00Z
    when = resolve_release_date(None, prepared)
    assert when.isoformat() == "2026-01-01" and default_version(when) == "2026.01.01"
    first = publish_release(prepared, resources=BASE_RESOURCES)
    assert first.version == "2026.01.01" and first.published
    assert publish_release(prepared, resources=BASE_RESOURCES).published is False
    with connect(prepared) as con:
        con.execute("UPDATE pub_parks SET area_ha = 301 WHERE park_id = 'ET-HAW'")
    second = publish_release(prepared, resources=BASE_RESOURCES)
    assert second.version == "2026.01.01.2" and second.published
    assert latest_version(second.path.parent) == "2026.01.01.2"
    latest = json.loads((second.path.parent / "latest.json").read_text(encoding="utf-8"))
    assert latest["version"] == "2026.01.01.2" and latest["datapackage"] == "2026.01.01.2/datapackage.json"


# A facility-month resource as the indicators publish it, reduced to what the changelog needs.
FACILITY_VALUES = Resource(
    name="facility_values",
    title="Facility values",
    description="Test resource keyed by facility and period.",
    fields=(
        Field("facility_id", "string", "Facility."),
        Field("park_id", "string", "Park."),
        Field("period", "yearmonth", "Month."),
        Field("electricity_grid_kwh", "number", "Grid electricity.", unit="kWh"),
    ),
    primary_key=("facility_id", "period"),
    foreign_keys=(ForeignKey(("facility_id",), "facilities", ("facility_id",)),),
)


def test_changelog_lists_restated_values_of_public_facilities(prepared: Settings):
    resources = (PARKS, FACILITIES, FACILITY_VALUES)
    with connect(prepared) as con:
        con.execute(FACILITY_VALUES.duckdb_ddl().replace('"facility_values"', '"pub_facility_values"'))
        con.execute(
            "INSERT INTO pub_facility_values VALUES ('ET-HAW-F001', 'ET-HAW', '2024-01', 1000), "
            "('ET-HAW-F001', 'ET-HAW', '2024-02', 1100), ('VN-TST-F001', 'VN-TST', '2024-01', 0.00001)"
        )
    first = publish(prepared, resources=resources)
    assert "First release" in (first.path / "CHANGELOG.md").read_text(encoding="utf-8")
    csv_text = (first.path / "data" / "facility_values.csv").read_text(encoding="utf-8")
    assert "VN-TST-F001,VN-TST,2024-01,0.00001\n" in csv_text
    assert "ET-HAW-F001,ET-HAW,2024-01,1000\n" in csv_text
    with connect(prepared) as con:
        con.execute("UPDATE pub_facility_values SET electricity_grid_kwh = 1250.5 WHERE period = '2024-02'")
        con.execute("INSERT INTO pub_facility_values VALUES ('ET-HAW-F001', 'ET-HAW', '2024-03', 900)")
    second = publish(prepared, version="1.1.0", release_date="2026-12-01", resources=resources)
    changelog = (second.path / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "Changes since release 1.0.0." in changelog
    assert "| facility_values | 4 | 1 | 0 | 1 | 1 |" in changelog
    assert (
        "| facility_values | restated | facility_id=ET-HAW-F001; period=2024-02 | electricity_grid_kwh | "
        "1100 | 1250.5 |" in changelog
    )
    assert "| facility_values | added | facility_id=ET-HAW-F001; period=2024-03 | * |  |  |" in changelog
    changes = list(csv.DictReader((second.path / "data" / "changes.csv").open(encoding="utf-8")))
    assert changes == [
        {
            "resource": "facility_values",
            "kind": "added",
            "row_key": "facility_id=ET-HAW-F001; period=2024-03",
            "column": "*",
            "old": "",
            "new": "",
        },
        {
            "resource": "facility_values",
            "kind": "restated",
            "row_key": "facility_id=ET-HAW-F001; period=2024-02",
            "column": "electricity_grid_kwh",
            "old": "1100",
            "new": "1250.5",
        },
    ]
    assert "ET-HAW-F002" not in changelog and "Beta Dyeing" not in changelog
    assert "No schema changes." in changelog
    index = read_index(second.path.parent)
    assert [r["version"] for r in index] == ["1.0.0", "1.1.0"]
    assert latest_version(second.path.parent) == "1.1.0"
    assert frictionless.validate(str(second.path / "datapackage.json")).valid


def test_csv_cells_are_spreadsheet_safe_and_numbers_have_one_spelling(prepared: Settings):
    with connect(prepared) as con:
        con.execute(
            "UPDATE pub_parks SET operator = '=HYPERLINK(\"http://x\",\"y\")', region = '-Sidama', "
            "lat = -7.05 WHERE park_id = 'ET-HAW'"
        )
        con.execute(
            "UPDATE pub_parks SET operator = '@SUM(A1)', region = '+84 region' WHERE park_id = 'VN-TST'"
        )
    release = publish(prepared)
    text = (release.path / "data" / "parks.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK(" in text and ",'-Sidama," in text and ",-7.05," in text
    assert "'@SUM(A1)" in text and ",'+84 region," in text
    db = duckdb.connect()
    parquet = release.path / "data" / "parks.parquet"
    operators = [
        r[0] for r in db.execute(f"SELECT operator FROM read_parquet('{parquet}') ORDER BY 1").fetchall()
    ]
    assert operators == ['=HYPERLINK("http://x","y")', "@SUM(A1)"]
    db.close()
    descriptor = json.loads((release.path / "datapackage.json").read_text(encoding="utf-8"))
    assert "leading apostrophe" in descriptor["description"]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e-05, "0.00001"),
        (2.0, "2"),
        (-0.0, "0"),
        (0.1, "0.1"),
        (1e16, "10000000000000000"),
        (123456.789, "123456.789"),
        (1.5e-7, "0.00000015"),
        (float("nan"), ""),
    ],
)
def test_number_spelling(value: float, text: str):
    assert format_number(value) == text
    if text:
        assert float(text) == value


def test_cells():
    assert format_cell(None) == "" and format_cell(True) == "true" and format_cell(7) == "7"
    assert format_cell("\tx") == "'\tx" and format_cell("a=b") == "a=b"


def test_csv_text_spells_every_cell_like_format_cell_and_quotes_like_the_csv_module():
    import csv
    import io
    from datetime import date as Date

    import pyarrow as pa

    from instep.release.cells import csv_text

    table = pa.table(
        {
            "text": ["plain", "a,b", 'say "hi"', "two\nlines", "=SUM(A1)", "-3", None, "", " lead", "ünï"],
            "number": [1e-05, 2.0, -0.0, 0.1, 1e16, 123456.789, float("nan"), None, float("inf"), -1.5e-7],
            "count": pa.array([1, -2, None, 0, 2**62, 5, 6, 7, 8, 9], pa.int64()),
            "flag": [True, False, None, True, False, True, False, True, None, False],
            "day": [Date(2024, 1, 31), None, Date(1999, 12, 1)] + [Date(2026, 11, 25)] * 7,
            "big": [2.0**53, -(2.0**60), 1e300, 5e-324, 1.0, 0.5, 1 / 3, 100.25, -7.0, 1e-300],
        }
    )
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    writer.writerow(table.column_names)
    for row in zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True):
        writer.writerow([format_cell(v) for v in row])
    assert csv_text(table.column_names, table) == expected.getvalue()
    # A carriage return inside a field is quoted (the csv module leaves it bare with an LF terminator).
    assert csv_text(["a", "b"], pa.table({"a": ["x\ry"], "b": ["z"]})) == 'a,b\n"x\ry",z\n'
    assert csv_text(["a"], pa.table({"a": ["", "x"]})) == 'a\n""\nx\n'
    assert (
        csv_text(["a", "b"], pa.table({"a": pa.array([], pa.string()), "b": pa.array([], pa.int64())}))
        == "a,b\n"
    )


def test_homepage_is_the_configured_site_address_and_the_local_default_is_labelled(prepared: Settings):
    demo = publish(prepared)
    descriptor = json.loads((demo.path / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["homepage"] == prepared.site_url == "http://127.0.0.1:8000/"
    assert descriptor["homepage_placeholder"] is True and "placeholder" in descriptor["description"]
    assert 'url: "http://127.0.0.1:8000/"' in (demo.path / "CITATION.cff").read_text(encoding="utf-8")
    public = prepared.with_(
        site_url="https://open-data.example.net/", datapackages_dir=prepared.workspace / "dp"
    )
    published = publish(public)
    descriptor = json.loads((published.path / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["homepage"] == "https://open-data.example.net/"
    assert "homepage_placeholder" not in descriptor and "placeholder" not in descriptor["description"]
    bib = (published.path / "CITATION.bib").read_text(encoding="utf-8")
    assert "url = {https://open-data.example.net/}" in bib


def test_rows_of_a_facility_that_withdrew_are_counted_never_named():
    from datetime import date

    from instep.release.changelog import render_changelog
    from instep.release.changes import compare_releases
    from instep.release.descriptor import schema_descriptor

    resources = (FACILITIES, FACILITY_VALUES)
    descriptor = {"resources": [{"name": r.name, "schema": schema_descriptor(r)} for r in resources]}
    facility = {"park_id": "ET-HAW", "type": "factory", "sector": "garment", "os_id": None}
    facility |= {"active_from": None, "active_to": None}
    before = {
        "facilities": [
            {"facility_id": "ET-HAW-F001", "name": "Alpha", **facility},
            {"facility_id": "ET-HAW-F002", "name": "Beta Dyeing", **facility},
        ],
        "facility_values": [
            {
                "facility_id": "ET-HAW-F001",
                "park_id": "ET-HAW",
                "period": "2024-01",
                "electricity_grid_kwh": 1.1,
            },
            {
                "facility_id": "ET-HAW-F002",
                "park_id": "ET-HAW",
                "period": "2024-01",
                "electricity_grid_kwh": 5.0,
            },
        ],
    }
    after = {
        "facilities": before["facilities"][:1],
        "facility_values": [before["facility_values"][0] | {"electricity_grid_kwh": 0.1 + 0.2}],
    }
    changes = compare_releases(descriptor, before, descriptor, after)
    assert all("ET-HAW-F002" not in c.row_key for c in changes.changes)
    assert changes.summaries["facilities"].removed == 1 and changes.summaries["facilities"].unlisted_rows == 1
    assert changes.summaries["facility_values"].unlisted_rows == 1
    (restated,) = changes.of_kind("restated")
    assert (restated.row_key, restated.old, restated.new) == (
        "facility_id=ET-HAW-F001; period=2024-01",
        "1.1",
        "0.30000000000000004",
    )
    text = render_changelog(
        package_name="instep-open-data",
        version="1.1.0",
        release_date=date(2026, 12, 1),
        previous_version="1.0.0",
        changes=changes,
        row_counts={"facilities": 1, "facility_values": 1},
        resources=resources,
    )
    assert "Beta Dyeing" not in text and "ET-HAW-F002" not in text
    assert "Rows of facilities no longer published individually: 2" in text
    # kWh to one decimal in the changelog; unrounded in the changes resource.
    assert "| electricity_grid_kwh | 1.1 | 0.3 |" in text
