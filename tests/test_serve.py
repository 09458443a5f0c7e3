"""`instep serve`: the built site on 127.0.0.1 only, with the security headers the site relies on."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from instep.serve import CONTENT_SECURITY_POLICY, make_server, serving
from tests.test_dagster_ui import free_port


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    (folder / "data").mkdir(parents=True)
    (folder / "index.html").write_text("<!doctype html><title>home</title><p>home</p>", encoding="utf-8")
    (folder / "data" / "parks.csv").write_text("park_id\nET-HAW\n", encoding="utf-8")
    return folder


def test_pages_and_downloads_come_with_the_content_security_policy(site: Path):
    with serving(site) as base:
        assert base.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(base) as response:
            assert response.status == 200
            assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert b"<p>home</p>" in response.read()
        with urllib.request.urlopen(base + "data/parks.csv") as response:
            assert response.headers["Content-Type"].startswith("text/csv")
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(base + "no-such-page/")
        assert missing.value.code == 404


def test_policy_allows_only_the_sites_own_origin():
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'self'"
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["object-src"] == "'none'"


def test_a_folder_without_a_built_site_is_refused_with_the_reason(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match=r"index\.html missing"):
        make_server(tmp_path)


def test_the_command_serves_on_loopback_until_stopped(site: Path):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "instep", "serve", "--port", str(port), "--site-dir", str(site)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as response:
                    assert response.status == 200
                    break
            except urllib.error.URLError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "instep serve did not answer in 60 s"
                time.sleep(0.3)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert f"on http://127.0.0.1:{port}/" in output
    assert "stopped" in output


@pytest.mark.parametrize(
    ("path", "status"),
    [("%00", 400), ("data/parks%00.csv", 400), ("%ff%fe", 404), ("a" * 5000, 404), ("%", 404)],
)
def test_malformed_paths_are_answered_400_or_404_and_the_server_goes_on(site: Path, path: str, status: int):
    import http.client

    with serving(site) as base:
        host, port = base.removeprefix("http://").rstrip("/").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("GET", "/" + path)
        response = connection.getresponse()
        assert response.status == status
        response.read()
        with urllib.request.urlopen(base) as again:
            assert again.status == 200
