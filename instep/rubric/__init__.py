"""The versioned scorecard rubric (`v1.csv`, ...): its items read and checked, for the scoring, the
disclosure audit, the provenance record and the methodology page."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

RUBRIC_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class RubricItem:
    rubric_version: int
    pillar: str
    pillar_label: str
    pillar_weight: float
    indicator: str
    label: str
    column: str  # the park_annual column holding the value
    method: str  # "linear" or "zero_if_any"
    floor: float | None
    target: float | None
    unit: str
    direction: str
    na_reason: str


def rubric_path(version: int) -> Path:
    return RUBRIC_DIR / f"v{version}.csv"


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None


@cache
def load_rubric(version: int = 1) -> tuple[RubricItem, ...]:
    path = rubric_path(version)
    if not path.exists():
        raise FileNotFoundError(f"no rubric version {version}: {path.name} is not in {RUBRIC_DIR.name}/")
    with path.open(encoding="utf-8", newline="") as handle:
        items = tuple(
            RubricItem(
                rubric_version=int(row["rubric_version"]),
                pillar=row["pillar"],
                pillar_label=row["pillar_label"],
                pillar_weight=float(row["pillar_weight"]),
                indicator=row["indicator"],
                label=row["label"],
                column=row["column"],
                method=row["method"],
                floor=_number(row["floor"]),
                target=_number(row["target"]),
                unit=row["unit"],
                direction=row["direction"],
                na_reason=row["na_reason"],
            )
            for row in csv.DictReader(handle)
        )
    for item in items:
        if item.rubric_version != version:
            raise ValueError(f"{path.name}: row {item.indicator} says version {item.rubric_version}")
        if item.method == "linear" and (
            item.floor is None or item.target is None or item.floor == item.target
        ):
            raise ValueError(f"{path.name}: {item.indicator} needs a floor and a different target")
        if item.method not in ("linear", "zero_if_any"):
            raise ValueError(f"{path.name}: {item.indicator} has unknown method {item.method!r}")
    return items
