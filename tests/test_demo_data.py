"""The synthetic demo: deterministic, realistic in shape, and with every planted fault where it says."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from expectations import rules
from instep import reference, units
from instep.check import check_files
from instep.cli import main
from instep.demo import DemoManifest, generate_demo
from instep.demo.faults import FILE_FAULTS, ROW_FAULTS
from instep.demo.generate import batch_size
from instep.demo.population import Calendar
from instep.demo.templates import CSV_TEMPLATE, EXAMPLE, TEMPLATES_DIR, XLSX_TEMPLATE, write_templates
from instep.readers import SUBMISSION_COLUMNS, UnreadableFile, read_submission
from instep.registry import FACILITY_COLUMNS, PARK_COLUMNS, read_registry

AS_OF = date(2026, 11, 25)


@pytest.fixture(scope="module")
def default_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoManifest]:
    root = tmp_path_factory.mktemp("default-demo")
    return root, generate_demo(root)


@pytest.fixture(scope="module")
def default_rows(default_demo: tuple[Path, DemoManifest]) -> dict[str, list[dict[str, str | None]]]:
    """Every readable file's rows as the pipeline's reader sees them, by file name."""
    root, _ = default_demo
    out = {}
    for path in sorted((root / "inbox").iterdir()):
        try:
            table = read_submission(path)
        except UnreadableFile:
            continue
        out[path.name] = [
            {name: table.columns[name][i] for name in SUBMISSION_COLUMNS} for i in range(len(table))
        ]
    return out


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_arguments_give_byte_identical_output(tmp_path: Path):
    first = generate_demo(tmp_path / "a", facilities=24, months=12, seed=7)
    generate_demo(tmp_path / "b", facilities=24, months=12, seed=7)
    a, b = tree_bytes(tmp_path / "a"), tree_bytes(tmp_path / "b")
    assert a == b
    assert any(name.endswith(".xlsx") for name in a)  # workbooks too, despite their zip timestamps
    assert first.files == len(a) - 3  # the inbox, beside two registry files and the manifest


def test_a_different_seed_gives_different_data(tmp_path: Path):
    generate_demo(tmp_path / "a", facilities=20, months=3, seed=1)
    generate_demo(tmp_path / "b", facilities=20, months=3, seed=2)
    assert tree_bytes(tmp_path / "a/inbox") != tree_bytes(tmp_path / "b/inbox")


def test_registry_has_four_parks_in_three_countries_and_the_shared_plants(
    default_demo: tuple[Path, DemoManifest],
):
    root, _ = default_demo
    with (root / "registry/parks.csv").open(encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == list(PARK_COLUMNS)
    with (root / "registry/facilities.csv").open(encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == list(FACILITY_COLUMNS)
    registry = read_registry(root / "registry")  # the steward's own checks pass
    assert [p["park_id"] for p in registry.parks] == ["ET-HAW", "KE-ATH", "VN-PHL", "VN-NTR"]
    assert {p["country"] for p in registry.parks} == {"ET", "KE", "VN"}
    assert all("synthetic" in p["name"] for p in registry.parks)

    factories = [f for f in registry.facilities if f["type"] == "factory"]
    per_park = {park: sum(f["park_id"] == park for f in factories) for park in ("ET-HAW", "KE-ATH", "VN-PHL")}
    assert per_park | {"VN-NTR": sum(f["park_id"] == "VN-NTR" for f in factories)} == {
        "ET-HAW": 20,
        "KE-ATH": 30,
        "VN-PHL": 8,
        "VN-NTR": 20,
    }
    shared = {f["facility_id"]: f["type"] for f in registry.facilities if f["type"] != "factory"}
    assert shared == {
        "ET-HAW-CETP": "cetp",
        "KE-ATH-SOLAR": "solar_plant",
        "VN-NTR-CETP": "cetp",
        "VN-NTR-BOILER": "central_boiler",
    }
    assert {f["facility_id"] for f in factories} >= {
        "ET-HAW-F001",
        "ET-HAW-F020",
        "KE-ATH-F030",
        "VN-PHL-F008",
    }
    aggregate_only = [f for f in factories if f["disclosure"] == "aggregate_only"]
    assert 0.05 < len(aggregate_only) / len(factories) < 0.3
    assert any(f["os_id"] for f in factories)
    first_month = date(2023, 1, 1)
    assert any(date.fromisoformat(f["active_from"]) > first_month for f in factories)
    assert any(f["active_to"] and date.fromisoformat(f["active_to"]) < date(2025, 12, 1) for f in factories)
    assert {f["sector"] for f in factories} <= {
        "garment",
        "wet_processing",
        "spinning",
        "knitting",
        "footwear",
    }


def test_ids_and_registry_rows_stay_when_the_demo_grows(tmp_path: Path):
    generate_demo(tmp_path / "small", facilities=30, months=1, seed=5)
    generate_demo(tmp_path / "large", facilities=90, months=1, seed=5)
    small = read_csv(tmp_path / "small/registry/facilities.csv")
    large = {row["facility_id"]: row for row in read_csv(tmp_path / "large/registry/facilities.csv")}
    assert len(large) == 94 and len(small) == 34
    for row in small:
        assert large[row["facility_id"]] == row


def test_a_factory_submits_the_same_files_whatever_the_demo_size(tmp_path: Path):
    generate_demo(tmp_path / "small", facilities=20, months=12, seed=3)
    generate_demo(tmp_path / "large", facilities=40, months=12, seed=3)
    small = tree_bytes(tmp_path / "small/inbox")
    large = tree_bytes(tmp_path / "large/inbox")
    # Shared plants serve the whole park, so their figures grow with it; factories' files do not change.
    factory_files = {name: data for name, data in small.items() if "-F" in name}
    assert len(factory_files) > 50
    for name, data in factory_files.items():
        assert large.get(name) == data, name


def test_manifest_describes_the_run(default_demo: tuple[Path, DemoManifest]):
    root, manifest = default_demo
    written = json.loads((root / "demo-manifest.json").read_text(encoding="utf-8"))
    assert written["synthetic"] is True
    assert (written["seed"], written["facilities"], written["months"]) == (42, 78, 36)
    assert (written["first_period"], written["last_period"]) == ("2023-01", "2025-12")
    assert written["files"] == len(list((root / "inbox").iterdir())) == manifest.files
    assert set(written["planted_faults"][0]) == {"kind", "rule", "file", "row_number"}
    assert set(written["restatements"][0]) >= {"file", "row_number", "facility_id", "period", "metric"}
    assert DemoManifest.read(root / "demo-manifest.json") == manifest
    assert 800 <= manifest.files <= 1300


def test_every_fault_kind_is_planted_at_the_default_size(default_demo: tuple[Path, DemoManifest]):
    _, manifest = default_demo
    assert {f.kind for f in manifest.planted_faults} == set(ROW_FAULTS) | set(FILE_FAULTS)
    assert {f.rule for f in manifest.planted_faults} <= set(rules())
    for fault in manifest.planted_faults:
        assert fault.rule == {**ROW_FAULTS, **FILE_FAULTS}[fault.kind]
        assert (fault.row_number is None) == (fault.kind in FILE_FAULTS)
    assert manifest.restatements
    assert manifest.missing_months
    # A small share of the rows, not a flood.
    assert len(manifest.planted_faults) < manifest.rows * 0.002


def test_every_fault_kind_is_planted_in_a_small_demo(tmp_path: Path):
    manifest = generate_demo(tmp_path, facilities=20, months=12, seed=11)
    assert {f.kind for f in manifest.planted_faults} == set(ROW_FAULTS) | set(FILE_FAULTS)
    assert manifest.restatements and manifest.missing_months


def test_rows_of_the_readable_files_add_up_to_the_manifest(
    default_demo: tuple[Path, DemoManifest], default_rows: dict[str, list[dict[str, str | None]]]
):
    root, manifest = default_demo
    assert sum(len(rows) for rows in default_rows.values()) == manifest.rows
    whole_file_faults = {f.file: f.rule for f in manifest.planted_faults if f.row_number is None}
    unreadable = {}
    for path in (root / "inbox").iterdir():
        if path.name not in default_rows:
            with pytest.raises(UnreadableFile) as caught:
                read_submission(path)
            unreadable[path.name] = caught.value.rule
    assert unreadable == whole_file_faults
    formats = {name.rsplit(".", 1)[1] for name in default_rows}
    assert formats == {"csv", "json", "xlsx"}
    assert sum(name.endswith(".xlsx") for name in default_rows) <= 40


def test_file_names_sort_by_submission_date_and_restatements_come_later(
    default_demo: tuple[Path, DemoManifest],
):
    root, manifest = default_demo
    for path in (root / "inbox").iterdir():
        date.fromisoformat(path.name[:10])
    for restatement in manifest.restatements:
        assert restatement.file > restatement.original_file
        assert restatement.file.endswith("_restated.csv")


def _is_fault(manifest: DemoManifest) -> set[tuple[str, int]]:
    return {(f.file, f.row_number) for f in manifest.planted_faults if f.row_number is not None}


def test_rows_without_a_planted_fault_are_valid_and_plausible(
    default_demo: tuple[Path, DemoManifest], default_rows: dict[str, list[dict[str, str | None]]]
):
    root, manifest = default_demo
    catalogue = reference.metrics()
    facilities = {row["facility_id"]: row for row in read_csv(root / "registry/facilities.csv")}
    periods = set(Calendar(36).periods)
    faulty = _is_fault(manifest)
    checked = censored = 0
    for name, rows in default_rows.items():
        for number, row in enumerate(rows, start=1):
            if (name, number) in faulty:
                continue
            metric = catalogue[row["metric"] or ""]
            facility = facilities[row["facility_id"] or ""]
            assert row["period"] in periods
            assert facility["active_from"][:7] <= (row["period"] or "")
            assert not facility["active_to"] or (row["period"] or "") <= facility["active_to"][:7]
            assert row["unit"] in metric.accepted_units
            value = row["value"] or ""
            if metric.is_wastewater_sample:
                assert row["sample_point"] in ("raw", "treated", "discharge")
                assert (row["sample_date"] or "")[:7] >= (row["period"] or "")
                censored += value.startswith("<")
                value = value.removeprefix("<")
            else:
                assert not row["sample_point"] and not row["sample_date"]
            canonical = units.to_canonical(metric.code, float(value), row["unit"] or "")
            assert canonical >= 0, (name, number)
            if metric.plausible_max_per_month is not None:
                assert canonical <= metric.plausible_max_per_month, (name, number, row)
            checked += 1
    assert checked == manifest.rows - len(faulty)
    assert censored > 0


def test_each_planted_row_shows_its_fault(
    default_demo: tuple[Path, DemoManifest], default_rows: dict[str, list[dict[str, str | None]]]
):
    root, manifest = default_demo
    catalogue = reference.metrics()
    registry_ids = {row["facility_id"] for row in read_csv(root / "registry/facilities.csv")}
    for fault in manifest.planted_faults:
        if fault.row_number is None:
            continue
        row = default_rows[fault.file][fault.row_number - 1]
        value = row["value"] or ""
        if fault.kind == "wrong_unit":
            assert row["unit"] == "MWh"
            assert float(value) * 1000 > (catalogue["energy.electricity.grid"].plausible_max_per_month or 0)
        elif fault.kind == "decimal_comma":
            assert "," in value and fault.file.endswith(".csv")
        elif fault.kind == "text_in_number":
            assert value == "n/a" or value.startswith("approx. ")
        elif fault.kind == "unknown_facility":
            assert row["facility_id"] not in registry_ids
        elif fault.kind == "negative_value":
            assert value.startswith("-")
        elif fault.kind == "huge_value":
            ceiling = catalogue[row["metric"] or ""].plausible_max_per_month or 0
            assert units.to_canonical(row["metric"] or "", float(value), row["unit"] or "") > ceiling
        elif fault.kind == "sample_point_missing":
            assert catalogue[row["metric"] or ""].is_wastewater_sample and not row["sample_point"]
        elif fault.kind == "future_period":
            assert (row["period"] or "").startswith("2062-")
        elif fault.kind == "unknown_metric":
            assert row["metric"] not in catalogue
        elif fault.kind == "unit_not_accepted":
            assert row["unit"] == "litres"
        elif fault.kind == "bad_period_format":
            assert "/" in (row["period"] or "")
        elif fault.kind == "duplicate_row":
            rows = default_rows[fault.file]
            neighbours = rows[max(0, fault.row_number - 2) : fault.row_number + 1]
            assert sum(other == row for other in neighbours) == 2


def test_restatements_correct_an_earlier_row(
    default_demo: tuple[Path, DemoManifest], default_rows: dict[str, list[dict[str, str | None]]]
):
    _, manifest = default_demo
    for restatement in manifest.restatements:
        later = default_rows[restatement.file][restatement.row_number - 1]
        earlier = default_rows[restatement.original_file][restatement.original_row_number - 1]
        key = ("facility_id", "period", "metric", "unit", "sample_point", "sample_date")
        assert [later[k] for k in key] == [earlier[k] for k in key]
        assert [later[k] for k in key[:3]] == [
            restatement.facility_id,
            restatement.period,
            restatement.metric,
        ]
        assert later["value"] != earlier["value"]


def test_private_text_in_comments_is_listed(
    default_demo: tuple[Path, DemoManifest], default_rows: dict[str, list[dict[str, str | None]]]
):
    root, manifest = default_demo
    comments = [row["comment"] or "" for rows in default_rows.values() for row in rows]
    for name in manifest.submitter_names:
        assert any(f"Submitted by {name}" in comment for comment in comments)
    facilities = {row["facility_id"]: row for row in read_csv(root / "registry/facilities.csv")}
    [mention] = manifest.aggregate_only_mentions
    mentioned = facilities[str(mention["facility_id"])]
    assert mentioned["disclosure"] == "aggregate_only"
    comment = default_rows[str(mention["file"])][int(str(mention["row_number"])) - 1]["comment"] or ""
    assert mentioned["name"].removesuffix(" (synthetic)") in comment
    assert manifest.formula_like_names and all(
        n in {f["name"] for f in facilities.values()} for n in manifest.formula_like_names
    )


def test_shared_plants_report_their_own_figures(default_rows: dict[str, list[dict[str, str | None]]]):
    metrics_of: dict[str, set[str]] = {}
    for rows in default_rows.values():
        for row in rows:
            metrics_of.setdefault(row["facility_id"] or "", set()).add(row["metric"] or "")
    assert metrics_of["KE-ATH-SOLAR"] == {"energy.electricity.solar_onsite"}
    assert {"energy.fuel.biomass_wood", "energy.fuel.biomass_briquettes"} <= metrics_of["VN-NTR-BOILER"]
    assert "energy.steam.purchased" in set.union(
        *(m for f, m in metrics_of.items() if f.startswith("VN-NTR-F"))
    )
    assert not any("energy.steam.purchased" in m for f, m in metrics_of.items() if f.startswith("ET-HAW-F"))
    assert {"wastewater.cod", "water.recycled"} <= metrics_of["ET-HAW-CETP"]
    points = {
        row["sample_point"]
        for rows in default_rows.values()
        for row in rows
        if row["facility_id"] == "VN-NTR-CETP"
    }
    assert points >= {"raw", "treated", "discharge"}


def test_refuses_to_mix_with_existing_files_unless_told(tmp_path: Path):
    generate_demo(tmp_path, facilities=20, months=3, seed=1)
    with pytest.raises(FileExistsError, match="overwrite"):
        generate_demo(tmp_path, facilities=20, months=3, seed=2)
    generate_demo(tmp_path, facilities=20, months=3, seed=2, overwrite=True)
    generate_demo(tmp_path / "fresh", facilities=20, months=3, seed=2)
    replaced, fresh = tree_bytes(tmp_path / "inbox"), tree_bytes(tmp_path / "fresh/inbox")
    assert replaced == fresh


def test_large_demos_group_factories_to_stay_under_a_hundred_thousand_files():
    assert batch_size(2000, Calendar(36)) == 1
    size = batch_size(20_000, Calendar(36))
    assert size == 3
    assert 20_000 * 12 / size < 100_000


def test_command_line_writes_the_demo_and_prints_a_summary(tmp_path: Path):
    args = ["demo-data", "--facilities", "20", "--months", "3", "--seed", "4", "--out", str(tmp_path)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    manifest = DemoManifest.read(tmp_path / "demo-manifest.json")
    assert f"{manifest.files} files" in result.output
    assert "demo-manifest.json" in result.output
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 1 and "--overwrite" in again.output


def test_templates_are_the_committed_ones(tmp_path: Path):
    import openpyxl

    write_templates(tmp_path)
    for name in (CSV_TEMPLATE, EXAMPLE):
        assert (tmp_path / name).read_bytes() == (TEMPLATES_DIR / name).read_bytes(), name
    assert (tmp_path / CSV_TEMPLATE).read_text(encoding="utf-8") == ",".join(SUBMISSION_COLUMNS) + "\n"
    for workbook_path in (tmp_path / XLSX_TEMPLATE, TEMPLATES_DIR / XLSX_TEMPLATE):
        workbook = openpyxl.load_workbook(workbook_path)
        assert workbook.sheetnames == ["submission", "about", "lists"]
        assert [c.value for c in workbook["submission"][1]] == list(SUBMISSION_COLUMNS)
        about = " ".join(str(v) for row in workbook["about"].iter_rows(values_only=True) for v in row if v)
        assert "instep check FILE" in about
        assert "energy.electricity.grid" in about and "kWh, MWh, GJ" in about
        ranges = {str(v.sqref) for v in workbook["submission"].data_validations.dataValidation}
        assert ranges == {"C2:C5001", "E2:E5001", "F2:F5001"}


def test_example_submission_passes_the_checks(tmp_path: Path):
    generate_demo(tmp_path, facilities=2, months=1, seed=42)
    example = TEMPLATES_DIR / EXAMPLE
    assert "<0.01" in example.read_text(encoding="utf-8")
    [verdict] = check_files([example], read_registry(tmp_path / "registry"), AS_OF)
    assert verdict.valid, verdict.issues
    assert verdict.rows_read == len(read_csv(example))
