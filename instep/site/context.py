"""What every page generator shares: the release being published, all releases, the output folder."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from instep.site.chartcache import ChartRenderer
from instep.site.charts import HEIGHT, SIZE_TOKEN, WIDTH, Citation, size_attributes
from instep.site.release import Release
from instep.site.words import mark_abbreviations

SHARED_TYPES = {
    "cetp": "Central effluent treatment plant",
    "central_boiler": "Central boiler",
    "solar_plant": "Solar plant",
}
FACILITY_TYPES = {"factory": "Factory", **SHARED_TYPES}


@dataclass
class SiteContext:
    release: Release
    releases: list[Release]
    docs_dir: Path
    renderer: ChartRenderer
    site_url: str = ""
    # Pages written so far (path relative to docs_dir -> title), for the navigation.
    written: dict[str, str] = field(default_factory=dict)
    # Pages holding chart size tokens, filled in by finish().
    _sized: list[Path] = field(default_factory=list)
    _groups: dict[tuple[str, str], dict[str, pd.DataFrame]] = field(default_factory=dict)

    @property
    def citation(self) -> Citation:
        r = self.release
        return Citation(
            title=r.title, version=r.version, date=r.date, license=r.license, synthetic=r.synthetic
        )

    def write(
        self,
        relative: str,
        title: str,
        body: str,
        charts: bool = False,
        wide: bool = False,
        searchable: bool = True,
        explorer: bool = False,
    ) -> Path:
        """Write a Markdown page with front matter; `relative` is e.g. 'parks/ET-HAW/index.md'.

        A page that is not `searchable` is left out of the site's search index (MkDocs Material's
        `search.exclude`)."""
        path = self.docs_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        body = mark_abbreviations(body)
        front = ["---", f"title: {_yaml_text(title)}"]
        if charts:
            front.append("charts: true")
        if explorer:
            front.append("explorer: true")
        if not searchable:
            front += ["search:", "  exclude: true"]
        if wide:
            # Scorecards and data tables need the width of the table of contents.
            front += ["hide:", "  - toc"]
        front.append("---")
        path.write_text("\n".join(front) + "\n\n" + body.strip() + "\n", encoding="utf-8")
        self.written[relative] = title
        if SIZE_TOKEN in body:
            self._sized.append(path)
        return path

    def finish(self) -> None:
        """Wait for the charts, put their SVG and PNG in place and their sizes into the pages."""
        sizes = self.renderer.finish((WIDTH, HEIGHT))
        pattern = re.compile(re.escape(SIZE_TOKEN) + r"([0-9a-f]{64})@@")
        for path in self._sized:
            text = path.read_text(encoding="utf-8")
            path.write_text(pattern.sub(lambda m: size_attributes(sizes[m.group(1)]), text), encoding="utf-8")

    def table(self, name: str) -> pd.DataFrame:
        if not self.release.has(name):
            return pd.DataFrame()
        return self.release.table(name)

    def rows_of(self, name: str, column: str, value: str) -> pd.DataFrame:
        """The rows of a table with `column == value`: grouped once, not filtered once per page (which
        would make the pages of all facilities quadratic in their number)."""
        if (name, column) not in self._groups:
            table = self.table(name)
            self._groups[(name, column)] = (
                {key: rows for key, rows in table.groupby(column, sort=False)} if not table.empty else {}
            )
        rows = self._groups[(name, column)].get(value)
        return rows if rows is not None else self.table(name).iloc[0:0]

    @property
    def parks(self) -> pd.DataFrame:
        return self.table("parks").sort_values("park_id")

    @property
    def facilities(self) -> pd.DataFrame:
        return self.table("facilities").sort_values("facility_id")


def _yaml_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
