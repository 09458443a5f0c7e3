"""Rendering chart specs to SVG (and PNG where asked): once per distinct chart, in parallel, kept between
builds.

Rendering is most of a site build's cost (Vega in vl-convert, then rasterising), and most charts do not
change from one release to the next. So every rendered chart is kept in a content-addressed cache in the
workspace, keyed by the SHA-256 of the Vega-Lite spec (its data is inlined) and of the renderer's
versions and settings: an unchanged chart is copied, never rendered again. Entries are written to a
temporary name and renamed into place, so a killed build never leaves a half-written entry behind.

What is rendered is kept to what is shown: the static picture is drawn without tooltips (see
`static_spec`), and a PNG is made only for the charts that offer one. At national scale most charts are
facility charts, and both would cost more than the rest of their page.

Charts not in the cache are rendered by a pool of worker processes, one per core, while the pages are
being generated. Each worker is a fresh interpreter running `python -m instep.site.chartcache` (not a
fork: vl-convert runs its own threads; not multiprocessing's spawn, which re-imports the caller's main
script), reading one spec a line and answering with its key once the entry is written. The files do
not depend on the order in which the workers finish.
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
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import vl_convert as vlc

VEGA_LITE_VERSION = "v6.4"
PNG_SCALE = 2
# Bump when what is stored for a key changes, so older entries are not reused.
CACHE_FORMAT = "3"
RENDERER = f"vl-convert {vlc.__version__}; vega-lite {VEGA_LITE_VERSION}; png scale {PNG_SCALE}"


def chart_key(spec: dict[str, Any]) -> str:
    """The cache key of a spec: what is drawn (spec and data) and what draws it (renderer versions)."""
    text = json.dumps(spec, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
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


def render_svg_png(spec: dict[str, Any], png: bool = True) -> tuple[str, bytes | None]:
    """SVG from the spec, and a PNG rasterised from that SVG if asked (same picture, Vega runs once)."""
    svg = stable_clip_ids(
        vlc.vegalite_to_svg(static_spec(spec), vl_version=VEGA_LITE_VERSION, allowed_base_urls=[])
    )
    return svg, vlc.svg_to_png(svg, scale=PNG_SCALE) if png else None


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _render_into(cache: str, key: str, spec: dict[str, Any], png: bool) -> str:
    """Worker: render one spec into the cache (PNG first, SVG last: the SVG marks a whole entry)."""
    svg, png_bytes = render_svg_png(spec, png)
    folder = Path(cache) / key[:2]
    folder.mkdir(parents=True, exist_ok=True)
    if png_bytes is not None:
        _write_atomically(folder / f"{key}.png", png_bytes)
    _write_atomically(folder / f"{key}.svg", svg.encode("utf-8"))
    return key


class WorkerPool:
    """`size` worker processes fed through as many threads (which only wait on the pipes)."""

    def __init__(self, size: int, cache: Path) -> None:
        self._cache = cache
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
                )
                self._all.append(process)
                return process
        return self._idle.get()

    def _render(self, key: str, spec: dict[str, Any], png: bool) -> str:
        process = self._worker()
        assert process.stdin is not None and process.stdout is not None
        job = {"key": key, "spec": spec, "png": png}
        process.stdin.write(json.dumps(job, separators=(",", ":")) + "\n")
        process.stdin.flush()
        answer = process.stdout.readline().strip()
        if answer != key:
            raise RuntimeError(f"chart worker failed on {key} (exit code {process.poll()})")
        self._idle.put(process)
        return key

    def submit(self, key: str, spec: dict[str, Any], png: bool) -> Future[str]:
        return self._threads.submit(self._render, key, spec, png)

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
    """A worker's loop: a JSON line {key, spec, png} in, the key out once the entry is in the cache."""
    for line in sys.stdin:
        job = json.loads(line)
        _render_into(str(cache), job["key"], job["spec"], job["png"])
        sys.stdout.write(job["key"] + "\n")
        sys.stdout.flush()


def svg_size(svg: str, default: tuple[int, int]) -> tuple[int, int]:
    match = re.search(r'<svg[^>]*?width="([\d.]+)"[^>]*?height="([\d.]+)"', svg)
    if not match:
        return default
    return round(float(match.group(1))), round(float(match.group(2)))


class ChartRenderer:
    """Collects the charts of one build; renders those not cached; copies SVG and PNG into place.

    `submit(spec, svg_path, png_path)` returns the chart's key at once (without `png_path`, SVG only);
    `finish()` waits for the renders, copies every chart's files to their paths and returns each key's
    SVG size (width, height), for the pages' <img> tags. `finish()` also drops cache entries this build
    did not use, so the cache holds the charts of the latest build only.
    """

    def __init__(self, cache_dir: Path, workers: int | None = None) -> None:
        self.cache_dir = cache_dir
        self.workers = workers or os.cpu_count() or 1
        self.rendered = 0  # charts rendered (not found in the cache) by this build
        self._targets: dict[str, list[tuple[Path, Path | None]]] = {}
        self._pending: list[Future[str]] = []
        self._pool: WorkerPool | None = None

    def _entry(self, key: str) -> tuple[Path, Path]:
        folder = self.cache_dir / key[:2]
        return folder / f"{key}.svg", folder / f"{key}.png"

    def _wants_png(self, key: str) -> bool:
        return any(png_target is not None for _, png_target in self._targets.get(key, ()))

    def submit(self, spec: dict[str, Any], svg_path: Path, png_path: Path | None = None) -> str:
        key = chart_key(spec)
        png_wanted = png_path is not None
        # Asked for before with all that is wanted now: rendered, pending or found in the cache then.
        if key in self._targets and (self._wants_png(key) or not png_wanted):
            self._targets[key].append((svg_path, png_path))
            return key
        self._targets.setdefault(key, []).append((svg_path, png_path))
        svg, png = self._entry(key)
        if svg.is_file() and (png.is_file() or not png_wanted):
            return key
        self.rendered += 1
        if self._pool is None:
            self._pool = WorkerPool(self.workers, self.cache_dir)
        self._pending.append(self._pool.submit(key, spec, png_wanted))
        return key

    def finish(self, default_size: tuple[int, int]) -> dict[str, tuple[int, int]]:
        try:
            for future in self._pending:
                future.result()
        finally:
            self.close()
        sizes = {}
        for key, targets in self._targets.items():
            svg, png = self._entry(key)
            for svg_target, png_target in targets:
                _place(svg, svg_target)
                if png_target is not None:
                    _place(png, png_target)
            sizes[key] = svg_size(svg.read_text(encoding="utf-8"), default_size)
        self._prune()
        return sizes

    def close(self) -> None:
        """Stop the workers (a failed build calls this; finish() does it itself)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def _prune(self) -> None:
        if not self.cache_dir.is_dir():
            return
        for folder in self.cache_dir.iterdir():
            if not folder.is_dir():
                continue
            for entry in folder.iterdir():
                key = entry.name.split(".")[0]
                unused_png = entry.suffix == ".png" and not self._wants_png(key)
                if key not in self._targets or unused_png:
                    entry.unlink(missing_ok=True)


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
