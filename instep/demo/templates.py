"""The submission templates factories fill in, and a filled example: `python -m instep.demo.templates`.

Writes `templates/submission_template.csv` (the header), `templates/submission_template.xlsx` (the
`submission` sheet with drop-down lists, the unit list depending on the row's metric; an `about` sheet
explaining every column and listing the metric catalogue with its accepted units) and
`templates/example_submission.csv` (a valid month of a factory).
The committed files are the output of this module; a test regenerates and compares them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from instep import reference
from instep.demo.files import save_workbook, write_csv
from instep.readers import REQUIRED_COLUMNS, SUBMISSION_COLUMNS
from instep.settings import REPO_ROOT

TEMPLATES_DIR = REPO_ROOT / "templates"
CSV_TEMPLATE = "submission_template.csv"
XLSX_TEMPLATE = "submission_template.xlsx"
EXAMPLE = "example_submission.csv"
SAMPLE_POINTS = ("raw", "treated", "discharge")
# Rows of the submission sheet that carry the drop-down lists.
VALIDATED_ROWS = 5000

COLUMN_HELP = {
    "facility_id": "Your facility id from the programme registry, e.g. ET-HAW-F003.",
    "period": "The reporting month as YYYY-MM, e.g. 2025-06 (type it as text, not as a date).",
    "metric": "A metric code from the list below, e.g. energy.electricity.grid.",
    "value": (
        "A number with a decimal point (1234.5), no thousands separators, no decimal comma. "
        "For a wastewater laboratory result below the detection limit x, write <x (e.g. <0.01)."
    ),
    "unit": "One of the metric's accepted units (list below); values are converted on ingest.",
    "sample_point": "Wastewater results only: raw, treated or discharge.",
    "sample_date": "Wastewater results only: the sampling day as YYYY-MM-DD, inside or after the month.",
    "comment": "Optional free text for the programme team. Comments are never published.",
}

EXAMPLE_FACILITY = "ET-HAW-F001"
EXAMPLE_PERIOD = "2025-06"
EXAMPLE_SAMPLE_DATE = "2025-06-18"
# A garment factory's month: (metric, value, unit, comment).
EXAMPLE_VALUES: tuple[tuple[str, str, str, str], ...] = (
    ("energy.electricity.grid", "212400", "kWh", ""),
    ("energy.fuel.diesel", "1850", "L", "generator used during two grid outages"),
    ("energy.fuel.biomass_briquettes", "14.2", "t", "boiler for the ironing steam"),
    ("water.withdrawal.municipal", "2640.5", "m3", ""),
    ("wastewater.discharged.to_cetp", "2165.2", "m3", ""),
    ("production.output_mass", "68450", "kg", ""),
    ("production.output_pieces", "213900", "pcs", ""),
    ("chemicals.products.total", "38", "count", ""),
    ("chemicals.products.zdhc_level1plus", "31", "count", ""),
    ("chemicals.consumption", "142", "kg", ""),
    ("waste.hazardous", "118", "kg", ""),
    ("waste.non_hazardous", "8.21", "t", ""),
    ("waste.recycled", "4.65", "t", "fabric offcuts sold to a recycler"),
    ("workforce.female", "1032", "persons", ""),
    ("workforce.male", "214", "persons", ""),
    ("workforce.supervisors.female", "17", "persons", ""),
    ("workforce.supervisors.male", "24", "persons", ""),
    ("workforce.managers.female", "3", "persons", ""),
    ("workforce.managers.male", "8", "persons", ""),
    ("workforce.hours_worked", "258600", "h", ""),
    ("wages.entry_level_monthly", "5200", "local currency", ""),
    ("ohs.injuries.recordable", "2", "count", ""),
    ("ohs.injuries.lost_time", "1", "count", ""),
    ("ohs.lost_days", "6", "days", ""),
    ("ohs.fatalities", "0", "count", ""),
    ("grievances.received", "7", "count", ""),
    ("grievances.resolved", "6", "count", ""),
    ("grievances.gbv.received", "0", "count", ""),
    ("training.hours", "2480", "h", ""),
)
# Monthly self-monitoring of the effluent the factory sends on: (metric, value, unit).
EXAMPLE_WASTEWATER: tuple[tuple[str, str, str], ...] = (
    ("wastewater.temperature_delta", "4.2", "degC"),
    ("wastewater.ph", "7.6", "pH"),
    ("wastewater.cod", "96", "mg/L"),
    ("wastewater.bod5", "18.5", "mg/L"),
    ("wastewater.tss", "21.4", "mg/L"),
    ("wastewater.chromium_vi", "<0.01", "mg/L"),
    ("wastewater.zinc", "0.21", "mg/L"),
)


def example_rows() -> list[list[str]]:
    rows = [
        [EXAMPLE_FACILITY, EXAMPLE_PERIOD, metric, value, unit, "", "", comment]
        for metric, value, unit, comment in EXAMPLE_VALUES
    ]
    rows += [
        [EXAMPLE_FACILITY, EXAMPLE_PERIOD, metric, value, unit, "discharge", EXAMPLE_SAMPLE_DATE, ""]
        for metric, value, unit in EXAMPLE_WASTEWATER
    ]
    return rows


ABOUT_TITLES = ("INSTEP Open Data: monthly submission template", "How to fill it", "Metrics")


def about_rows() -> list[list[object]]:
    """The `about` sheet: how to fill the template, then the metric catalogue."""
    rows: list[list[object]] = [
        [ABOUT_TITLES[0]],
        [],
        [ABOUT_TITLES[1]],
        ["Fill the 'submission' sheet: one row per facility, month and metric (and per wastewater sample)."],
        ["Keep the header in row 1 as it is. You may send this workbook, a CSV (UTF-8) or JSON."],
        ["Before sending, run: instep check FILE  (the same checks the programme's pipeline runs)."],
        [],
        ["column", "required", "meaning"],
    ]
    for column in SUBMISSION_COLUMNS:
        if column in REQUIRED_COLUMNS:
            required = "yes"
        elif column in ("sample_point", "sample_date"):
            required = "wastewater results"
        else:
            required = "no"
        rows.append([column, required, COLUMN_HELP[column]])
    rows += [
        [],
        [ABOUT_TITLES[2]],
        [
            "metric",
            "topic",
            "canonical unit",
            "accepted units",
            "plausible maximum per month (canonical unit)",
            "needs sample_point and sample_date",
            "description",
        ],
    ]
    for metric in reference.metrics().values():
        ceiling = metric.plausible_max_per_month
        rows.append(
            [
                metric.code,
                metric.topic,
                metric.canonical_unit,
                ", ".join(metric.accepted_units),
                "" if ceiling is None else f"{ceiling:,.0f}",
                "yes" if metric.is_wastewater_sample else "no",
                metric.description
                + (" (sensitive: never published per facility)" if metric.sensitive else ""),
            ]
        )
    return rows


UNIT_LIST_PREFIX = "units_"


def unit_list_name(metric: str) -> str:
    """The workbook name of a metric's accepted units: `units_` and the code with dots as underscores
    (a defined name may not look like a cell reference; the prefix sees to that)."""
    return UNIT_LIST_PREFIX + metric.replace(".", "_")


def unit_validation_formula(row: int) -> str:
    """The unit cell's list in `row`: the accepted units of the metric chosen in the same row."""
    return f'INDIRECT("{UNIT_LIST_PREFIX}"&SUBSTITUTE($C{row},".","_"))'


def write_xlsx_template(path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "submission"
    sheet.append(list(SUBMISSION_COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    widths = {"A": 16, "B": 10, "C": 40, "D": 14, "E": 16, "F": 14, "G": 14, "H": 40}
    for letter, width in widths.items():
        sheet.column_dimensions[letter].width = width

    # The hidden `lists` sheet: metric codes (A), sample points (B), then one column per metric with its
    # accepted units (C onwards), each column a defined name the unit cell's list refers to.
    lists = workbook.create_sheet("lists")
    catalogue = reference.metrics()
    metrics = list(catalogue)
    lists.append(["metric", "sample_point", *metrics])
    longest = max(len(SAMPLE_POINTS), len(metrics), *(len(m.accepted_units) for m in catalogue.values()))
    for position in range(longest):
        units = [
            m.accepted_units[position] if position < len(m.accepted_units) else None
            for m in catalogue.values()
        ]
        lists.append(
            [
                metrics[position] if position < len(metrics) else None,
                SAMPLE_POINTS[position] if position < len(SAMPLE_POINTS) else None,
                *units,
            ]
        )
    for offset, metric in enumerate(catalogue.values()):
        letter = get_column_letter(3 + offset)
        reference_text = f"lists!${letter}$2:${letter}${len(metric.accepted_units) + 1}"
        workbook.defined_names[unit_list_name(metric.code)] = DefinedName(
            unit_list_name(metric.code), attr_text=reference_text
        )
    lists.sheet_state = "hidden"

    last = VALIDATED_ROWS + 1
    for column, formula, title, error in (
        ("C", f"lists!$A$2:$A${len(metrics) + 1}", "metric", "Choose a metric from the list"),
        (
            "E",
            unit_validation_formula(2),
            "unit",
            "Choose one of the units accepted for the metric in column C (choose the metric first)",
        ),
        (
            "F",
            f"lists!$B$2:$B${len(SAMPLE_POINTS) + 1}",
            "sample_point",
            "Choose a sample_point from the list",
        ),
    ):
        validation = DataValidation(type="list", formula1=formula, allow_blank=True)
        validation.error = f"{error} (see the 'about' sheet)."
        validation.errorTitle = f"Unknown {title}"
        validation.showErrorMessage = True
        sheet.add_data_validation(validation)
        validation.add(f"{column}2:{column}{last}")

    about = workbook.create_sheet("about", 1)
    for line, row in enumerate(about_rows(), start=1):
        about.append(row)
        if row and (row[0] in ABOUT_TITLES or (len(row) > 2 and row[0] in ("column", "metric"))):
            for cell in about[line]:
                cell.font = Font(bold=True)
    about.column_dimensions["A"].width = 40
    about.column_dimensions["C"].width = 60
    save_workbook(workbook, path)


def write_templates(out_dir: Path = TEMPLATES_DIR) -> list[Path]:
    """Write the three template files into `out_dir`; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_template, xlsx_template, example = out_dir / CSV_TEMPLATE, out_dir / XLSX_TEMPLATE, out_dir / EXAMPLE
    write_csv(csv_template, [], "csv")
    write_xlsx_template(xlsx_template)
    write_csv(example, example_rows(), "csv")
    return [csv_template, xlsx_template, example]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the submission templates and the filled example.")
    parser.add_argument("--out", type=Path, default=TEMPLATES_DIR, help="folder (default: templates/)")
    args = parser.parse_args(argv)
    for path in write_templates(args.out):
        print(path)


if __name__ == "__main__":
    main()
