"""Short search entries for the facility pages, added to the index MkDocs Material builds.

The facility pages are left out of Material's index: one entry per page, with its tables and chart
captions, would make the index readers download grow by kilobytes per facility (tens of megabytes at
national scale). Instead each public facility gets one short entry here: its name as the title, its
id, Open Supply Hub id, park, type and sector as text, and the same as `tags`, which Material's search
weighs above titles and text, so that the facility's own page comes first when a reader types its name,
id or OS ID.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from pathlib import Path

import pandas as pd

from instep.site.context import FACILITY_TYPES


@dataclass(frozen=True)
class SearchEntry:
    location: str  # relative to the site root, e.g. "facilities/ET-HAW-F001/"
    title: str
    text: str
    tags: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "location": self.location,
            "title": escape(self.title, quote=False),
            "text": escape(self.text, quote=False),
            "tags": [escape(tag, quote=False) for tag in self.tags],
        }


def facility_entries(facilities: pd.DataFrame, park_names: dict[str, str]) -> list[SearchEntry]:
    """One entry per published facility (the `facilities` table holds only the public ones)."""
    entries = []
    for facility in facilities.itertuples():
        park = park_names.get(facility.park_id, facility.park_id)
        kind = FACILITY_TYPES.get(facility.type, facility.type)
        sector = str(facility.sector or "").replace("_", " ")
        os_id = str(facility.os_id or "").strip()
        details = [f"Facility {facility.facility_id}", f"{kind} in {park}"]
        if sector:
            details.append(f"sector {sector}")
        if os_id:
            details.append(f"Open Supply Hub id {os_id}")
        tags = tuple(tag for tag in (str(facility.name), str(facility.facility_id), os_id) if tag)
        entries.append(
            SearchEntry(
                location=f"facilities/{facility.facility_id}/",
                title=str(facility.name),
                text=" · ".join(details) + ".",
                tags=tags,
            )
        )
    return entries


def add_entries(site: Path, entries: list[SearchEntry]) -> int:
    """Append `entries` to the built site's search index; return the index's size in bytes."""
    path = site / "search" / "search_index.json"
    if not path.is_file():
        raise FileNotFoundError(f"no search index in the built site ({path.name}): is the search plugin on?")
    index = json.loads(path.read_text(encoding="utf-8"))
    index["docs"].extend(entry.as_json() for entry in entries)
    text = json.dumps(index, ensure_ascii=False, separators=(",", ":"))
    path.write_text(text, encoding="utf-8")
    return len(text.encode("utf-8"))
