"""A browser page reads the verdict: fetch() through the proxy, across origins.

The page calls the API through the proxy with ``Authorization`` (so Chromium sends a CORS
preflight, which the proxy forwards unjudged to the fake started with ``--cors-origin``)
and shows ``x-contract-violations``, which a browser hides from scripts unless the answer
lists it in ``Access-Control-Expose-Headers``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from tests.support.browser import headless_chromium, serve_page
from tests.support.proxy_process import ProxyProcess
from tests.support.server_process import ServerProcess

pytestmark = pytest.mark.e2e

WAIT_SECONDS = 20.0  # an upper bound for the page's fetch, never a measured figure

_PAGE = b"""<!doctype html>
<html><body><pre id="out">waiting</pre>
<script>
const api = new URLSearchParams(location.search).get("api");
fetch(api + "/gitpod.v1.EnvironmentAutomationService/GetTask", {
  method: "POST",
  headers: {"Content-Type": "application/json", "Connect-Protocol-Version": "1",
            "Authorization": "Bearer browser-proxy"},
  body: JSON.stringify({id: "not-a-uuid"}),
}).then((response) => {
  document.getElementById("out").textContent =
    response.status + " " + response.headers.get("x-contract-violations");
}).catch((error) => {
  document.getElementById("out").textContent = "blocked " + error.name;
});
</script></body></html>
"""


@pytest.fixture
def page() -> Iterator[str]:
    with serve_page(_PAGE) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    yield from headless_chromium()


def test_proxy_verdict_is_readable_by_a_browser_page(browser: WebDriver, page: str) -> None:
    with (
        ServerProcess("--cors-origin", page, "--log-level", "warning") as fake,
        ProxyProcess("--upstream", fake.url) as proxy,
    ):
        browser.get(f"{page}/?api={proxy.url}")

        def done(driver: WebDriver) -> str | None:
            text: str = driver.find_element(By.ID, "out").text
            return None if text == "waiting" else text

        shown = WebDriverWait(browser, WAIT_SECONDS).until(done)
        status, summary = proxy.finish()
    # The invalid id is the page's own violation; the fake's 400 to it is right.
    assert shown == "400 1; request_schema_conformance"
    assert status == 0 and "1 client violation(s)" in summary
    assert "forwarded, 1 judged" in summary  # the preflight went through, unjudged
