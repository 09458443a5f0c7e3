"""Derive the country outlines the parks map draws from Natural Earth (world-atlas TopoJSON).

Run once by hand when the set of countries changes; the site build only reads the committed result,
`instep/site/data/countries.geojson`. Input: `countries-50m.json` from the npm package world-atlas 2.0.2
(Natural Earth 4.1.0 Admin 0 boundaries, public domain), e.g. unpacked from `npm pack world-atlas@2.0.2`.

    python scripts/make_country_outlines.py path/to/countries-50m.json
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

# ISO 3166-1 numeric id in world-atlas -> alpha-2 code used by the registry.
COUNTRIES = {"231": ("ET", "Ethiopia"), "404": ("KE", "Kenya"), "704": ("VN", "Viet Nam")}
# Degrees; 0.01 is about 1 km, far below what a 300-pixel map shows.
PRECISION = 2
OUT = Path(__file__).resolve().parent.parent / "instep" / "site" / "data" / "countries.geojson"


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """Undo TopoJSON's delta encoding and quantisation."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring(arcs: list[list[tuple[float, float]]], indexes: list[int]) -> list[list[float]]:
    points: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    simplified: list[list[float]] = []
    for x, y in points:
        point = [round(x, PRECISION), round(y, PRECISION)]
        if not simplified or point != simplified[-1]:
            simplified.append(point)
    if simplified[0] != simplified[-1]:
        simplified.append(simplified[0])
    return simplified


def signed_area(points: list[list[float]]) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(points)) / 2


def oriented(polygon: list[list[list[float]]]) -> list[list[list[float]]]:
    """Exterior ring clockwise, holes anticlockwise (lon as x, lat as y): the spherical convention of
    d3-geo, which Vega uses; the other way round a ring means "the whole globe except this"."""
    out = []
    for index, points in enumerate(polygon):
        clockwise = signed_area(points) < 0
        out.append(points if clockwise == (index == 0) else points[::-1])
    return out


def main(source: Path) -> None:
    topology = json.loads(source.read_text(encoding="utf-8"))
    arcs = decode_arcs(topology)
    features = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        if geometry.get("id") not in COUNTRIES:
            continue
        iso2, name = COUNTRIES[geometry["id"]]
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        rings = [[ring(arcs, r) for r in polygon] for polygon in polygons]
        # Drop islets that collapse to fewer than four points at this precision.
        rings = [[r for r in polygon if len(r) >= 4] for polygon in rings]
        coordinates = [oriented(polygon) for polygon in rings if polygon]
        features.append(
            {
                "type": "Feature",
                "properties": {"country": iso2, "name": name},
                "geometry": {"type": "MultiPolygon", "coordinates": coordinates},
            }
        )
    features.sort(key=lambda feature: feature["properties"]["country"])
    collection = {
        "type": "FeatureCollection",
        "source": "Natural Earth 4.1.0 Admin 0 countries 1:50m (public domain), via world-atlas 2.0.2",
        "features": features,
    }
    OUT.write_text(json.dumps(collection, separators=(",", ":")) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
