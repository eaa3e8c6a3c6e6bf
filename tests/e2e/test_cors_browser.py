"""--cors-origin in a real browser: a page on another origin calls the fake with fetch().

The page asks for JSON with ``Authorization`` and ``Connect-Protocol-Version``, which
makes Chromium send a preflight first; from an origin the fake was not told about, the
browser blocks the call.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from tests.support.browser import headless_chromium, serve_page
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
            "Authorization": "Bearer browser-tenant"},
  body: JSON.stringify({id: "00000000-0000-4000-8000-000000000000"}),
}).then(async (response) => {
  const body = await response.json();
  document.getElementById("out").textContent =
    response.status + " " + body.code + " " + response.headers.get("content-type");
}).catch((error) => {
  document.getElementById("out").textContent = "blocked " + error.name;
});
</script></body></html>
"""


def _page_origin() -> Iterator[str]:
    with serve_page(_PAGE) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def allowed_origin() -> Iterator[str]:
    yield from _page_origin()


@pytest.fixture
def other_origin() -> Iterator[str]:
    yield from _page_origin()


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    yield from headless_chromium()


def _outcome(browser: WebDriver, page: str, api: str) -> str:
    browser.get(f"{page}/?api={api}")

    def done(driver: WebDriver) -> str | None:
        text: str = driver.find_element(By.ID, "out").text
        return None if text == "waiting" else text

    result = WebDriverWait(browser, WAIT_SECONDS).until(done)
    assert result is not None
    return result


def test_cors_a_page_on_the_allowed_origin_gets_the_answer(
    browser: WebDriver, allowed_origin: str, other_origin: str
) -> None:
    with ServerProcess("--cors-origin", allowed_origin, "--log-level", "warning") as fake:
        # the Connect error body and its content type are readable across origins
        assert _outcome(browser, allowed_origin, fake.url) == "404 not_found application/json"
        assert _outcome(browser, other_origin, fake.url) == "blocked TypeError"


def test_cors_without_the_flag_the_browser_blocks_the_call(
    browser: WebDriver, allowed_origin: str
) -> None:
    with ServerProcess("--log-level", "warning") as fake:
        assert _outcome(browser, allowed_origin, fake.url) == "blocked TypeError"
