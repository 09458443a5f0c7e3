"""Rendering chart specs to SVG (and PNG where asked): once per distinct chart, in parallel, kept between
builds.

Rendering is most of a site build's cost (Vega in vl-convert, then rasterising), and most charts do not
change from one release to the next. So every rendered chart is kept in a content-addressed cache in the
workspace, keyed by the SHA-256 of the Vega-Lite spec (its data is inlined) and of the renderer's
versions and settings: an unchanged chart is copied, never rendered again. The SVG is kept without its
footer (source, release, licence, synthetic label), which is added as text when it is put in place; a
PNG is kept per footer. Entries are written to a
temporary name and renamed into place, so a killed build never leaves a half-written entry behind.

What is rendered is kept to what is shown: the static picture is drawn without tooltips (see
`static_spec`), and a PNG is made only for the charts that offer one. At national scale most charts are
facility charts, and both would cost more than the rest of their page.

Charts not in the cache are rendered by a pool of worker processes, one per core, while the pages are
being generated. Each worker is a fresh interpreter running `python -m instep.site.chartcache` (not a
fork: vl-convert runs its own threads; not multiprocessing's spawn, which re-imports the caller's main
script), reading one spec a line and answering with its key once the entry is written. The files do
not depend on the order in which the workers finish.

The workers draw with the project's subset of DejaVu Sans (`instep/site/data/fonts`, made by
`scripts/make_chart_fonts.py`) put ahead of the system's fonts: vl-convert reads a system font's file
again for every glyph it measures or draws, which costs less the smaller the file. The subset has DejaVu
Sans' own glyphs and metrics, so a chart is drawn the same; a chart with a character outside the subset
is drawn by a worker with the system's fonts only.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import textwrap
import threading
import zipfile
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import vl_convert as vlc

from instep.files import write_atomically

CHART_FONTS = Path(__file__).resolve().parent / "data" / "fonts"
SYSTEM_FONT_CONFIG = "/etc/fonts/fonts.conf"

VEGA_LITE_VERSION = "v6.4"
PNG_SCALE = 2
# Bump when what is stored for a key changes, so older entries are not reused.
CACHE_FORMAT = "4"
RENDERER = f"vl-convert {vlc.__version__}; vega-lite {VEGA_LITE_VERSION}; png scale {PNG_SCALE}"


def spec_text(spec: dict[str, Any]) -> str:
    return json.dumps(spec, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def chart_key(spec: dict[str, Any], text: str | None = None) -> str:
    """The cache key of a spec (`text`: its spec_text, if at hand): what is drawn (spec and data) and
    what draws it (renderer versions)."""
    text = spec_text(spec) if text is None else text
    digest = hashlib.sha256()
    for part in (CACHE_FORMAT, RENDERER, text):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


CLIP_ID = re.compile(r'id="clip(\d+)"')


def stable_clip_ids(svg: str) -> str:
    """Number clip paths from 1 in each SVG: Vega counts them per process, so the same chart would
    otherwise differ by which charts its worker happened to render before."""
    numbers = {old: str(new) for new, old in enumerate(dict.fromkeys(CLIP_ID.findall(svg)), start=1)}
    if not numbers:
        return svg
    return re.sub(
        r'(id="clip|url\(#clip)(\d+)', lambda m: m.group(1) + numbers.get(m.group(2), m.group(2)), svg
    )


def static_spec(spec: Any) -> Any:
    """The spec without tooltips, for the static picture: a picture shows none, and Vega-Lite would
    still format every tooltip into each mark's description, about a third of a small-multiples
    chart's rendering time. The interactive view is drawn from the full spec."""
    if isinstance(spec, list):
        return [static_spec(item) for item in spec]
    if not isinstance(spec, dict):
        return spec
    drawn = {}
    for name, value in spec.items():
        if name == "encoding" and isinstance(value, dict):
            value = {channel: v for channel, v in value.items() if channel != "tooltip"}
        elif name == "mark" and isinstance(value, dict):
            value = {option: v for option, v in value.items() if option != "tooltip"}
        elif name in ("data", "datasets"):
            drawn[name] = value  # values, not spec: never rewritten
            continue
        drawn[name] = static_spec(value)
    return drawn


FOOTER_FONT_PX = 11
FOOTER_LINE_PX = 15
FOOTER_PAD_PX = 8
# DejaVu Sans at 11 px averages under 6.4 px a character: lines are wrapped to stay inside the chart.
FOOTER_CHAR_PX = 6.4


def wrap_footer(lines: Sequence[str], width: int) -> list[str]:
    """The footer's lines wrapped to the chart's width."""
    chars = max(28, int((width - 2 * FOOTER_PAD_PX) / FOOTER_CHAR_PX))
    wrapped: list[str] = []
    for line in lines:
        wrapped += textwrap.wrap(line, chars) or [""]
    return wrapped


def add_footer(svg: str, lines: Sequence[str]) -> str:
    """The SVG with a footer band below the chart (source, release, licence, synthetic label), so that a
    downloaded picture says where it comes from wherever it is pasted."""
    if not lines:
        return svg
    width, height = svg_size(svg, (0, 0))
    if not width or not height:
        raise ValueError("chart SVG has no width and height: cannot add its footer")
    wrapped = wrap_footer(lines, width)
    band = 2 * FOOTER_PAD_PX + FOOTER_LINE_PX * len(wrapped)
    total = height + band
    texts = "".join(
        f'<text x="{FOOTER_PAD_PX}" y="{height + FOOTER_PAD_PX + FOOTER_LINE_PX * (i + 1) - 4}">'
        f"{xml_escape(line)}</text>"
        for i, line in enumerate(wrapped)
    )
    footer = (
        f'<g class="instep-chart-footer" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" '
        f'font-size="{FOOTER_FONT_PX}px" fill="#333333">'
        f'<rect x="0" y="{height}" width="{width}" height="{band}" fill="#ffffff"/>'
        f'<line x1="0" y1="{height + 0.5}" x2="{width}" y2="{height + 0.5}" stroke="#cccccc"/>'
        f"{texts}</g>"
    )
    root = re.search(r"<svg\b[^>]*>", svg)
    assert root is not None
    tag = root.group(0)
    tag = re.sub(r'height="[\d.]+"', f'height="{total}"', tag, count=1)
    tag = re.sub(r'viewBox="([-\d.]+) ([-\d.]+) ([\d.]+) [\d.]+"', rf'viewBox="\1 \2 \3 {total}"', tag)
    end = svg.rindex("</svg>")
    return svg[: root.start()] + tag + svg[root.end() : end] + footer + svg[end:]


def footer_digest(lines: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:16]


def render_svg_png(spec: dict[str, Any], png: bool = True) -> tuple[str, bytes | None]:
    """SVG from the spec, and a PNG rasterised from that SVG if asked (same picture, Vega runs once)."""
    svg = stable_clip_ids(
        vlc.vegalite_to_svg(static_spec(spec), vl_version=VEGA_LITE_VERSION, allowed_base_urls=[])
    )
    return svg, vlc.svg_to_png(svg, scale=PNG_SCALE) if png else None


def _chart_font_coverage() -> frozenset[str]:
    """The characters the chart fonts have (coverage.txt: inclusive hexadecimal ranges)."""
    characters: set[str] = set()
    for line in (CHART_FONTS / "coverage.txt").read_text(encoding="utf-8").split():
        first, last = (int(bound, 16) for bound in line.split("-"))
        characters.update(map(chr, range(first, last + 1)))
    return frozenset(characters)


CHART_FONT_COVERAGE = _chart_font_coverage()


def chart_fonts_cover(spec_text: str) -> bool:
    """Whether every character of a spec (its JSON text) is in the chart fonts: if not, the system's
    fonts draw it, as they would draw any character DejaVu Sans has and the subset does not."""
    return set(spec_text) <= CHART_FONT_COVERAGE


def write_font_config(folder: Path) -> Path:
    """A fontconfig file that lists the chart fonts before the system's fonts (fonts found first win
    among faces of the same name in vl-convert); returns its path."""
    system = os.environ.get("FONTCONFIG_FILE", SYSTEM_FONT_CONFIG)
    text = (
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        f"  <dir>{xml_escape(str(CHART_FONTS))}</dir>\n"
        f'  <include ignore_missing="yes">{xml_escape(system)}</include>\n</fontconfig>\n'
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "fonts.conf"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        write_atomically(path, text.encode("utf-8"))
    return path


def _render_into(cache: str, key: str, spec: dict[str, Any], footer: Sequence[str] | None) -> str:
    """Worker: render one spec into the cache, the SVG without footer (so that it is reused from one
    release to the next), and with `footer` (a list of lines) a PNG of the SVG with that footer. An SVG
    already in the cache is not drawn again, only rasterised."""
    folder = Path(cache) / key[:2]
    folder.mkdir(parents=True, exist_ok=True)
    svg_path = folder / f"{key}.svg"
    if svg_path.is_file():
        svg = svg_path.read_text(encoding="utf-8")
    else:
        svg, _ = render_svg_png(spec, png=False)
    if footer is not None:
        png_bytes = vlc.svg_to_png(add_footer(svg, footer), scale=PNG_SCALE)
        write_atomically(folder / f"{key}.{footer_digest(footer)}.png", png_bytes)
    if not svg_path.is_file():
        write_atomically(svg_path, svg.encode("utf-8"))
    return key


class WorkerPool:
    """`size` worker processes fed through as many threads (which only wait on the pipes); with
    `chart_fonts`, the workers draw with the chart fonts ahead of the system's."""

    def __init__(self, size: int, cache: Path, chart_fonts: bool = True) -> None:
        self._cache = cache
        self._env = {**os.environ}
        if chart_fonts:
            self._env["FONTCONFIG_FILE"] = str(write_font_config(cache))
        self._idle: queue.Queue[subprocess.Popen[str]] = queue.Queue()
        self._all: list[subprocess.Popen[str]] = []
        self._lock = threading.Lock()
        self._threads = ThreadPoolExecutor(max_workers=size, thread_name_prefix="chart-render")
        self._size = size

    def _worker(self) -> subprocess.Popen[str]:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if len(self._all) < self._size:
                process = subprocess.Popen(
                    [sys.executable, "-m", "instep.site.chartcache", str(self._cache)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    encoding="utf-8",
                    env=self._env,
                )
                self._all.append(process)
                return process
        return self._idle.get()

    def _render(self, key: str, spec: dict[str, Any], footer: Sequence[str] | None) -> str:
        process = self._worker()
        assert process.stdin is not None and process.stdout is not None
        job = {"key": key, "spec": spec, "footer": footer}
        process.stdin.write(json.dumps(job, separators=(",", ":")) + "\n")
        process.stdin.flush()
        answer = process.stdout.readline().strip()
        if answer != key:
            raise RuntimeError(f"chart worker failed on {key} (exit code {process.poll()})")
        self._idle.put(process)
        return key

    def submit(self, key: str, spec: dict[str, Any], footer: Sequence[str] | None) -> Future[str]:
        return self._threads.submit(self._render, key, spec, footer)

    def close(self) -> None:
        self._threads.shutdown(wait=True, cancel_futures=True)
        for process in self._all:
            if process.stdin:
                process.stdin.close()
        for process in self._all:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def serve(cache: Path) -> None:
    """A worker's loop: a JSON line {key, spec, footer} in, the key out once the entry is in the cache
    (`footer` null: no PNG wanted)."""
    for line in sys.stdin:
        job = json.loads(line)
        _render_into(str(cache), job["key"], job["spec"], job["footer"])
        sys.stdout.write(job["key"] + "\n")
        sys.stdout.flush()


def svg_size(svg: str, default: tuple[int, int]) -> tuple[int, int]:
    match = re.search(r'<svg[^>]*?width="([\d.]+)"[^>]*?height="([\d.]+)"', svg)
    if not match:
        return default
    return round(float(match.group(1))), round(float(match.group(2)))


@dataclass(frozen=True)
class _Target:
    svg: Path
    png: Path | None
    footer: tuple[str, ...]


class ChartRenderer:
    """Collects the charts of one build; renders those not cached; puts SVG and PNG in place.

    `submit(spec, svg_path, png_path, footer)` returns the chart's key at once (without `png_path`, SVG
    only); `bundle(zip_path, files)` asks for a zip of a chart's files once they are in place;
    `finish()` waits for the renders, writes every chart's SVG with its footer, links its PNG, writes the
    zips and returns each key's SVG size (width, height, footer included) for the pages' <img> tags.
    `finish()` also drops cache entries this build did not use, so the cache holds the charts of the
    latest build only.

    The cache keeps the SVG without its footer, keyed by the spec alone: the footer names the release,
    so a chart unchanged from the last release is not drawn again, only given its new footer (a string
    edit) and, where it offers a PNG, rasterised again.
    """

    def __init__(self, cache_dir: Path, workers: int | None = None) -> None:
        self.cache_dir = cache_dir
        self.workers = workers or os.cpu_count() or 1
        self.rendered = 0  # render jobs (charts or PNGs not found in the cache) of this build
        self._targets: dict[str, list[_Target]] = {}
        self._jobs: set[tuple[str, str | None]] = set()
        self._targets_asked: set[str] = set()
        self._bundles: list[tuple[Path, tuple[Path, ...]]] = []
        self._pending: list[Future[str]] = []
        # Workers by whether they draw with the chart fonts (see the module's docstring).
        self._pools: dict[bool, WorkerPool] = {}

    def _svg_entry(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.svg"

    def _png_entry(self, key: str, footer: Sequence[str]) -> Path:
        return self.cache_dir / key[:2] / f"{key}.{footer_digest(footer)}.png"

    def submit(
        self,
        spec: dict[str, Any],
        svg_path: Path,
        png_path: Path | None = None,
        footer: Sequence[str] = (),
    ) -> str:
        text = spec_text(spec)
        key = chart_key(spec, text)
        self._targets.setdefault(key, []).append(_Target(svg_path, png_path, tuple(footer)))
        png_footer = tuple(footer) if png_path is not None else None
        job = (key, footer_digest(png_footer) if png_footer is not None else None)
        if job in self._jobs or (png_footer is None and key in self._targets_asked):
            return key  # asked for before in this build: rendered, pending or found in the cache then
        self._jobs.add(job)
        self._targets_asked.add(key)
        svg_cached = self._svg_entry(key).is_file()
        if svg_cached and (png_footer is None or self._png_entry(key, png_footer).is_file()):
            return key
        self.rendered += 1
        pool = self._pool(chart_fonts_cover(text))
        self._pending.append(pool.submit(key, spec, list(png_footer) if png_footer else None))
        return key

    def bundle(self, zip_path: Path, files: Sequence[Path]) -> None:
        """A zip of `files` (a chart's SVG, PNG, CSV ...), written by finish() once they are in place."""
        self._bundles.append((zip_path, tuple(files)))

    def finish(self, default_size: tuple[int, int]) -> dict[str, tuple[int, int]]:
        try:
            for future in self._pending:
                future.result()
        finally:
            self.close()
        sizes = {}
        for key, targets in self._targets.items():
            svg = self._svg_entry(key).read_text(encoding="utf-8")
            for target in targets:
                footed = add_footer(svg, target.footer)
                target.svg.parent.mkdir(parents=True, exist_ok=True)
                target.svg.write_text(footed, encoding="utf-8")
                if target.png is not None:
                    _place(self._png_entry(key, target.footer), target.png)
                sizes.setdefault(key, svg_size(footed, default_size))
        for zip_path, files in self._bundles:
            write_zip(zip_path, files)
        self._prune()
        return sizes

    def close(self) -> None:
        """Stop the workers (a failed build calls this; finish() does it itself)."""
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()

    def _pool(self, chart_fonts: bool) -> WorkerPool:
        """The workers for charts the chart fonts cover (a process per core), or for the rare others
        (one process)."""
        if chart_fonts not in self._pools:
            size = self.workers if chart_fonts else 1
            self._pools[chart_fonts] = WorkerPool(size, self.cache_dir, chart_fonts)
        return self._pools[chart_fonts]

    def _prune(self) -> None:
        if not self.cache_dir.is_dir():
            return
        wanted = {
            self._png_entry(key, t.footer).name for key, ts in self._targets.items() for t in ts if t.png
        }
        for folder in self.cache_dir.iterdir():
            if not folder.is_dir():
                continue
            for entry in folder.iterdir():
                key = entry.name.split(".")[0]
                unused_png = entry.suffix == ".png" and entry.name not in wanted
                if key not in self._targets or unused_png:
                    entry.unlink(missing_ok=True)


def write_zip(path: Path, files: Sequence[Path]) -> None:
    """A zip of `files` by their names, with a fixed timestamp: the same files give the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            info = zipfile.ZipInfo(file.name, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, file.read_bytes())


def _place(source: Path, target: Path) -> None:
    """Hard link where the disk allows (entries are never changed once written), else copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
