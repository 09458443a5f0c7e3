"""The XLSX submission template: the unit drop-down of a row offers the units of that row's metric."""

from __future__ import annotations

import re

import openpyxl
import pytest

from instep import reference
from instep.demo.templates import TEMPLATES_DIR, XLSX_TEMPLATE

# What the unit cell's list formula may be: a name built from the same row's metric cell.
DEPENDENT_LIST = re.compile(r'INDIRECT\("(\w+)"&SUBSTITUTE\(\$C(\d+),"\.","_"\)\)')


@pytest.fixture(scope="module")
def workbook() -> openpyxl.Workbook:
    return openpyxl.load_workbook(TEMPLATES_DIR / XLSX_TEMPLATE)


def units_offered(workbook: openpyxl.Workbook, metric: str, row: int) -> list[str]:
    """The list Excel shows in the unit cell of `row` once `metric` is chosen in that row."""
    (validation,) = [v for v in workbook["submission"].data_validations.dataValidation if f"E{row}" in v]
    assert validation.type == "list"
    match = DEPENDENT_LIST.fullmatch(validation.formula1)
    assert match, validation.formula1
    prefix, first_row = match.groups()
    # the reference is relative: the range starts at row 2, so row 2's formula names C2, row r's Cr
    assert int(first_row) == min(r.min_row for r in validation.sqref.ranges) == 2
    name = prefix + metric.replace(".", "_")
    ((sheet, cells),) = list(workbook.defined_names[name].destinations)
    return [cell.value for (cell,) in workbook[sheet][cells.replace("$", "")]]


def test_the_unit_list_of_a_row_is_the_accepted_units_of_its_metric(workbook: openpyxl.Workbook):
    catalogue = reference.metrics()
    for metric in catalogue.values():
        assert units_offered(workbook, metric.code, 2) == list(metric.accepted_units), metric.code
    assert units_offered(workbook, "energy.fuel.diesel", 5001) == list(
        catalogue["energy.fuel.diesel"].accepted_units
    )
    assert "kWh" not in units_offered(workbook, "energy.fuel.diesel", 17)


def test_the_metric_list_is_the_catalogue(workbook: openpyxl.Workbook):
    (validation,) = [v for v in workbook["submission"].data_validations.dataValidation if "C2" in v]
    sheet, cells = validation.formula1.split("!")
    assert [c.value for (c,) in workbook[sheet][cells.replace("$", "")]] == list(reference.metrics())
