"""The parks map: country outlines shipped with the code (Natural Earth, see data/SOURCE.md) and the
parks as points, drawn as an Altair geoshape so it renders to a static SVG without any tile server.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import altair as alt
import pandas as pd

from instep.site.charts import PALETTE

OUTLINES = Path(__file__).resolve().parent / "data" / "countries.geojson"
# Parks far apart share no sensible single map: one panel per region.
REGIONS = (("East Africa", ("ET", "KE")), ("South-East Asia", ("VN",)))


@cache
def outlines() -> dict:
    return json.loads(OUTLINES.read_text(encoding="utf-8"))


def country_names() -> dict[str, str]:
    return {f["properties"]["country"]: f["properties"]["name"] for f in outlines()["features"]}


PANEL = 300
# Words that say what kind of place a park is, not which one: a map label stops before them.
GENERIC_WORDS = {"industrial", "export", "textile", "garment", "apparel", "eco", "park", "zone", "and"}


def short_name(name: str) -> str:
    """A park's name as a map label: 'Hawela Lakeside Industrial Park (synthetic)' -> 'Hawela Lakeside'."""
    words = [w for w in str(name).replace("(synthetic)", "").split() if w]
    kept: list[str] = []
    for word in words:
        if word.lower() in GENERIC_WORDS and kept:
            break
        kept.append(word)
    return " ".join(kept) or str(name)


def _bounds(features: list[dict], points: pd.DataFrame) -> tuple[float, float, float, float]:
    lons, lats = [], []
    for feature in features:
        for polygon in feature["geometry"]["coordinates"]:
            for x, y in polygon[0]:
                lons.append(x)
                lats.append(y)
    lons += [float(v) for v in points["lon"]]
    lats += [float(v) for v in points["lat"]]
    return min(lons), min(lats), max(lons), max(lats)


def _mercator_y(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def fitted_projection(features: list[dict], points: pd.DataFrame, size: int = PANEL) -> alt.Projection:
    """A Mercator projection centred on the panel's countries and parks, with a margin.

    Computed here rather than with Vega-Lite's `fit`, because concatenated views would share one fitted
    projection and draw the second region off the panel.
    """
    west, south, east, north = _bounds(features, points)
    width = math.radians(east - west)
    height = _mercator_y(north) - _mercator_y(south)
    scale = 0.9 * size / max(width, height, 1e-6)
    centre_y = (_mercator_y(north) + _mercator_y(south)) / 2
    centre_lat = math.degrees(2 * math.atan(math.exp(centre_y)) - math.pi / 2)
    return alt.Projection(
        type="mercator",
        scale=round(scale, 3),
        center=[round((west + east) / 2, 4), round(centre_lat, 4)],
        translate=[size / 2, size / 2],
    )


def parks_map(parks: pd.DataFrame, link_prefix: str = "") -> alt.TopLevelMixin:
    """Panels of country outlines with a point per park; `parks` has park_id, name, country, lat, lon."""
    panels = []
    for title, countries in REGIONS:
        features = [f for f in outlines()["features"] if f["properties"]["country"] in countries]
        points = parks[parks["country"].isin(countries)].copy()
        if not features and points.empty:
            continue
        shapes = alt.Data(values=features)
        land = (
            alt.Chart(shapes)
            .mark_geoshape(fill="#e8eef0", stroke="#7a8a90", strokeWidth=0.8)
            .encode(tooltip=[alt.Tooltip("properties.name:N", title="Country")])
        )
        layers = [land]
        if not points.empty:
            points["lat"] = points["lat"].astype(float)
            points["lon"] = points["lon"].astype(float)
            points["page"] = link_prefix + points["park_id"] + "/"
            layers.append(
                alt.Chart(points[["park_id", "name", "lat", "lon", "page"]])
                .mark_circle(size=140, color=PALETTE[3], stroke="white", strokeWidth=1.5, opacity=0.95)
                .encode(
                    longitude="lon:Q",
                    latitude="lat:Q",
                    href="page:N",
                    tooltip=[alt.Tooltip("name:N", title="Park"), alt.Tooltip("park_id:N", title="Id")],
                )
            )
            points["label"] = [short_name(name) for name in points["name"]]
            layers.append(
                alt.Chart(points[["label", "lat", "lon"]])
                .mark_text(
                    align="left", dx=9, dy=0, fontSize=11, fontWeight="bold", color="#222", limit=PANEL // 2
                )
                .encode(longitude="lon:Q", latitude="lat:Q", text="label:N")
            )
        panels.append(
            alt.layer(*layers, projection=fitted_projection(features, points)).properties(
                width=PANEL, height=PANEL, title=title
            )
        )
    return alt.hconcat(*panels)
