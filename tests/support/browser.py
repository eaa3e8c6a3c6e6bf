"""Headless Chromium for the browser tests (Debian's ``chromium`` and ``chromium-driver``).

Without a browser on the machine a browser test skips and says why; under CI
(``CI=true``) it fails instead, so a green CI run proves the pages work. ``.ci/run``
installs the browser.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

__all__ = ["browser_paths", "headless_chromium", "serve_page"]


def browser_paths() -> tuple[str, str]:
    """Chromium and chromedriver, or a skip (a failure under CI) naming what is missing."""
    chromium = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    missing = [
        name for name, path in (("chromium", chromium), ("chromedriver", driver)) if not path
    ]
    if missing:
        reason = (
            f"no browser for the browser tests: {' and '.join(missing)} not found "
            "(apt-get install -y chromium chromium-driver)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; under CI the browser tests must run", pytrace=False)
        pytest.skip(reason)
    assert chromium is not None and driver is not None
    return chromium, driver


def headless_chromium(
    window_size: str = "1400,1000", arguments: Sequence[str] = ()
) -> Iterator[WebDriver]:
    """A headless Chromium session for a fixture to yield from; quit afterwards.
    ``arguments``: more command-line switches (``--host-resolver-rules=...``)."""
    chromium, driver_path = browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={window_size}",
        *arguments,
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        yield driver
    finally:
        driver.quit()


@contextlib.contextmanager
def serve_page(html: bytes) -> Iterator[int]:
    """Serve ``html`` at every path of a port of 127.0.0.1 (a page of another origin than
    the server under test); yields the port."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()
