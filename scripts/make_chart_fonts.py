"""Subset DejaVu Sans (regular and bold) to the characters the charts draw, for the chart renderer.

Run once by hand when the characters a chart may show change; the site build only reads the committed
result, `instep/site/data/fonts/`. Needs fontTools (`pip install fonttools`, not a dependency of the
project) and DejaVu Sans 2.37 (Debian's fonts-dejavu-core).

    python scripts/make_chart_fonts.py [/usr/share/fonts/truetype/dejavu]

Why a subset: vl-convert reads a system font from its file again for every glyph it measures or draws
(it opens and maps the file four times a glyph), and the kernel's cost of that grows with the file's
size: a subset of a sixth of the size cuts it by about a third. The glyphs, advances and kerning of the kept
characters are DejaVu Sans' own, so the charts come out the same. Hinting is left out: the renderer
does not use it. `coverage.txt` lists the characters both fonts have; a chart with any other character
is drawn with the system's fonts (see instep.site.chartcache).
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

FACES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
# Latin with Vietnamese (Latin Extended Additional) and combining marks, Greek (units such as µ and Δ),
# punctuation, super- and subscripts (CO₂, m³), currency and letter-like symbols, arrows, and the
# mathematical signs numbers are formatted with (− ≈ ≤ ≥).
UNICODES = (
    "U+0020-007E,U+00A0-024F,U+02B0-036F,U+0370-03FF,U+1E00-1EFF,U+2000-214F,U+2190-21FF,"
    "U+2212,U+2248,U+2264,U+2265"
)
OUT = Path(__file__).resolve().parent.parent / "instep" / "site" / "data" / "fonts"


def subset_face(source: Path, target: Path) -> set[int]:
    """Write the subset of `source` to `target`; return the code points it has."""
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.hinting = False
    options.notdef_outline = True
    font = TTFont(source, recalcTimestamp=False)  # the same input gives the same bytes
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=subset.parse_unicodes(UNICODES))
    subsetter.subset(font)
    font.save(target)
    return set(font.getBestCmap())


def ranges(code_points: set[int]) -> list[str]:
    """Code points as inclusive hexadecimal ranges, one a line (`0020-007E`)."""
    lines, ordered = [], sorted(code_points)
    start = previous = ordered[0]
    for point in [*ordered[1:], None]:
        if point is not None and point == previous + 1:
            previous = point
            continue
        lines.append(f"{start:04X}-{previous:04X}")
        if point is not None:
            start = previous = point
    return lines


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else Path("/usr/share/fonts/truetype/dejavu")
    OUT.mkdir(parents=True, exist_ok=True)
    covered = set.intersection(*(subset_face(source / face, OUT / face) for face in FACES))
    (OUT / "coverage.txt").write_text("\n".join(ranges(covered)) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
