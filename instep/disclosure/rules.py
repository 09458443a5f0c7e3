"""The sensitivity rules of disclosure control, on the contributions of the facilities a reader cannot see.

A published park cell minus the published facilities of the park is the sum of the contributions that are
not published: those of facilities that disclose only in aggregate, and of public facilities' own cells
withheld by the persons rule. The rules judge that hidden sum. Parameters are in
`instep/reference/disclosure_rules.csv`, with their sources; the methodology page prints them.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from instep.reference import REFERENCE_DIR

RULES_FILE = "disclosure_rules.csv"

# Why a cell is withheld; the words the release and the site use.
THRESHOLD = "threshold"
DOMINANCE = "dominance"
P_PERCENT = "p_percent"
PERSONS = "persons"
RESTATEMENT = "restatement"
SECONDARY = "secondary"
DERIVED = "derived"
CARRIED = "carried"
REASONS = {
    THRESHOLD: "fewer than {min_contributors} facilities that do not publish their own figures are in it",
    DOMINANCE: "{dominance_n} facilities that do not publish their own figures make up more than "
    "{dominance_k:g} % of it",
    P_PERCENT: "one facility that does not publish its own figures could estimate another's to within "
    "{p_percent:g} %",
    PERSONS: "fewer than 10 persons behind the ratio",
    RESTATEMENT: "its change since an earlier release comes from fewer than {min_contributors} facilities "
    "that do not publish their own figures",
    SECONDARY: "it would let a withheld figure be computed from the published ones",
    DERIVED: "it is computed from a withheld figure",
    CARRIED: "it was withheld in an earlier release and has not changed since",
}
PRIMARY_RULES = (THRESHOLD, DOMINANCE, P_PERCENT, PERSONS, RESTATEMENT)
# How a published row names its withheld cells: `suppressed_fields` ('a;b') and `suppression_rules`
# ('a: threshold; b: derived'), written by `instep.disclosure.publish` and read back with the two below.
FIELD_SEPARATOR = ";"
RULE_SEPARATOR = "; "
RULE_LINK = ": "


def withheld_fields(text: str | None) -> set[str]:
    """The columns a row's `suppressed_fields` names."""
    return set(filter(None, (text or "").split(FIELD_SEPARATOR)))


def withheld_entries(text: str | None) -> list[tuple[str, str]]:
    """(column, rule) pairs of a row's `suppression_rules`, in order; a column may have two rules."""
    return [entry.partition(RULE_LINK)[::2] for entry in filter(None, (text or "").split(RULE_SEPARATOR))]


@dataclass(frozen=True)
class Parameters:
    min_contributors: int
    dominance_n: int
    dominance_k: float
    p_percent: float

    @property
    def p(self) -> float:
        return self.p_percent / 100.0


@dataclass(frozen=True)
class Parameter:
    parameter: str
    value: str
    unit: str
    meaning: str
    source: str


@cache
def parameter_rows() -> tuple[Parameter, ...]:
    with (REFERENCE_DIR / RULES_FILE).open(encoding="utf-8", newline="") as handle:
        return tuple(Parameter(**row) for row in csv.DictReader(handle))


@cache
def parameters() -> Parameters:
    values = {row.parameter: row.value for row in parameter_rows()}
    return Parameters(
        min_contributors=int(values["min_contributors"]),
        dominance_n=int(values["dominance_n"]),
        dominance_k=float(values["dominance_k"]),
        p_percent=float(values["p_percent"]),
    )


def reason_text(rule: str, params: Parameters | None = None) -> str:
    params = params or parameters()
    return REASONS[rule].format(**params.__dict__)


def sensitivity(contributions: Iterable[float], params: Parameters | None = None) -> str | None:
    """The first primary rule a hidden sum breaks, or None when it may be published.

    `contributions` are the hidden facilities' values in the cell (one each, none for a facility that did
    not report it). No contribution: nothing hidden, nothing to protect. A sum of zeros from enough
    facilities is safe (no facility's value can be told apart); from fewer it is not (each is zero).
    """
    params = params or parameters()
    values = sorted((abs(v) for v in contributions), reverse=True)
    if not values:
        return None
    nonzero = [v for v in values if v > 0]
    if len(values) < params.min_contributors or 0 < len(nonzero) < params.min_contributors:
        return THRESHOLD
    total = sum(values)
    if total == 0:
        return None
    if sum(values[: params.dominance_n]) > params.dominance_k / 100.0 * total:
        return DOMINANCE
    if total - values[0] - values[1] < params.p * values[0]:
        return P_PERCENT
    return None


def protection_level(contributions: Sequence[float], params: Parameters | None = None) -> float:
    """How far either side of its value a withheld cell must stay uncertain: p % of its largest part.

    Zero when every part is zero. Such a cell is still withheld when few facilities are in it (else
    withholding only the non-zero ones would tell which had, say, an injury), but a reader who works out
    that a zero is a zero learns no size: that a facility reported no grid electricity shows in the
    published grid total as much as in its Scope 2, and the rules protect sizes, as zero cells are safe in
    the handbook's rules.
    """
    params = params or parameters()
    return params.p * max((abs(v) for v in contributions), default=0.0)


def is_protected(value: float, low: float, high: float, level: float, tolerance: float = 1e-6) -> bool:
    """Whether a reader's interval [low, high] for a withheld value keeps its protection level.

    Above: at least `level` of room. Below: `level` of room, or down to zero for a value smaller than its
    level (amounts are never negative). A zero level asks for nothing.
    """
    if level <= 0:
        return True
    slack = tolerance * max(1.0, abs(value))
    above = high >= value + level - slack
    below = low <= max(0.0, value - level) + slack
    return above and below
