"""Serving a built site on this machine only, with the same security headers a production host sends.

Used by `instep serve` and by the browser tests, so that what is tested is what a person browses.
"""

from __future__ import annotations

import functools
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

LOOPBACK = "127.0.0.1"

# Everything the pages load comes from the site itself; nothing is sent elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class SiteRequestHandler(SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".json": "application/json",
        ".svg": "image/svg+xml",
        ".csv": "text/csv; charset=utf-8",
        ".cff": "text/plain; charset=utf-8",
        ".bib": "text/plain; charset=utf-8",
        ".parquet": "application/vnd.apache.parquet",
        ".duckdb": "application/octet-stream",
    }

    def send_head(self):  # -> an open file or None, as SimpleHTTPRequestHandler's
        # A path no file can have (a NUL byte from "%00", a name the file system refuses) is the
        # client's error: answered 400 or 404, never a traceback and a dropped connection.
        path = urllib.parse.unquote(self.path.split("?", 1)[0].split("#", 1)[0])
        if "\x00" in path:
            self.send_error(HTTPStatus.BAD_REQUEST, "malformed path")
            return None
        try:
            return super().send_head()
        except ValueError:
            self.send_error(HTTPStatus.BAD_REQUEST, "malformed path")
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND, "file not found")
        return None

    def end_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)


def make_server(site_dir: Path, port: int = 0, verbose: bool = False) -> ThreadingHTTPServer:
    """A server for `site_dir` on 127.0.0.1 (port 0: any free port)."""
    if not (site_dir / "index.html").is_file():
        raise FileNotFoundError(f"no built site in {site_dir} (index.html missing); run `instep run` first")
    handler = functools.partial(SiteRequestHandler, directory=str(site_dir))
    server = ThreadingHTTPServer((LOOPBACK, port), handler)
    server.verbose = verbose  # type: ignore[attr-defined]
    return server


@contextmanager
def serving(site_dir: Path) -> Iterator[str]:
    """Serve `site_dir` in a background thread for the duration of the block; yields the base URL."""
    server = make_server(site_dir)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
