"""Shared fixtures: small hand-made registries and workspaces in temporary folders."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from instep.settings import Settings

AS_OF = date(2026, 11, 25)

PARKS_CSV = """park_id,name,country,region,lat,lon,operator,area_ha,established
ET-HAW,Test Lakeside Park,ET,Sidama,7.05,38.47,Test Operator,300,2016-01-01
VN-TST,Test River Park,VN,Nam Dinh,20.4,106.2,Test Operator,200,2012-01-01
"""

FACILITIES_CSV = """facility_id,park_id,name,type,sector,os_id,disclosure,active_from,active_to
ET-HAW-F001,ET-HAW,Alpha Garments,factory,garment,,public,2020-01-01,
ET-HAW-F002,ET-HAW,Beta Dyeing,factory,wet_processing,,aggregate_only,2020-01-01,2024-06-30
ET-HAW-C001,ET-HAW,Lakeside CETP,cetp,,,public,2020-01-01,
VN-TST-F001,VN-TST,Gamma Knits,factory,knitting,,public,2021-01-01,
"""


def write_registry(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "parks.csv").write_text(PARKS_CSV, encoding="utf-8")
    (directory / "facilities.csv").write_text(FACILITIES_CSV, encoding="utf-8")
    return directory


@pytest.fixture
def workspace(tmp_path: Path) -> Settings:
    """A workspace with the small registry and an empty inbox."""
    settings = Settings(workspace=tmp_path / "ws", datapackages_dir=tmp_path / "datapackages", as_of=AS_OF)
    write_registry(settings.registry_dir)
    settings.inbox_dir.mkdir(parents=True)
    return settings


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory):
    """The run's one demo release and site (see tests/shared_demo.py): read it, never change it."""
    from tests.shared_demo import run_temp_dir, shared_demo

    return shared_demo(run_temp_dir(tmp_path_factory.getbasetemp()))


# The modules that take longest, longest first. With two test processes each taking whole modules
# (`--dist loadfile`), handing these out first lets the short modules fill the gaps at the end.
# pytest-xdist's own order (most tests first, turned off by `--no-loadscope-reorder`) handed these
# few-test modules out last, and one process worked alone for the last 45 s. Only the order changes:
# a module missing here runs after them, in collection order.
LONGEST_MODULES_FIRST = (
    "test_site_browser.py",
    "test_cli_run.py",
    "test_disclosure_attacks.py",
    "test_timeline.py",
    "test_crash_safety.py",
    "test_incremental_indicators.py",
    "test_site_releases.py",
    "test_dagster_ui.py",
    "test_reader_properties.py",
    "test_expected_errors.py",
    "test_partitioned.py",
    "test_hostile_inputs.py",
    "test_pipeline_checks.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: position for position, name in enumerate(LONGEST_MODULES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
