"""Pages in a real browser cannot drive the fake's control routes (CSRF, DNS rebinding);
curl-like requests, which carry no browser headers, drive them as before.

Chromium resolves ``evil.test`` to 127.0.0.1 (``--host-resolver-rules``), so a page of
that site can be served locally, and the fake can be reached under that name, as after a
DNS rebinding.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from tests.support.browser import headless_chromium, serve_page
from tests.support.factories import task_body
from tests.support.server_process import ServerProcess

pytestmark = pytest.mark.e2e

WAIT_SECONDS = 20.0  # an upper bound for the page's fetch, never a measured figure
SERVICE = "/gitpod.v1.EnvironmentAutomationService"
KEEPER = {"Authorization": "Bearer keeper"}

# What a hostile page does: a "simple" POST (text/plain, no preflight) to the fake's
# reset, which would wipe every tenant; it cannot read the answer, only cause the effect.
_ATTACK = b"""<!doctype html>
<html><body><pre id="out">waiting</pre>
<script>
const fake = new URLSearchParams(location.search).get("fake");
fetch(fake + "/_mock/reset", {method: "POST", mode: "no-cors",
                              headers: {"Content-Type": "text/plain"}, body: "{}"})
  .then(() => { document.getElementById("out").textContent = "sent"; })
  .catch((error) => { document.getElementById("out").textContent = "failed " + error; });
</script></body></html>
"""


@pytest.fixture
def attack_port() -> Iterator[int]:
    with serve_page(_ATTACK) as port:
        yield port


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    yield from headless_chromium(arguments=["--host-resolver-rules=MAP evil.test 127.0.0.1"])


def _task_count(url: str) -> int:
    listed = httpx.post(f"{url}{SERVICE}/ListTasks", json={}, headers=KEEPER).json()
    return len(listed.get("tasks", []))


def _run_attack(browser: WebDriver, page: str) -> None:
    browser.get(page)

    def done(driver: WebDriver) -> str | None:
        text: str = driver.find_element(By.ID, "out").text
        return None if text == "waiting" else text

    assert WebDriverWait(browser, WAIT_SECONDS).until(done) == "sent"


@pytest.mark.parametrize("cors", [[], ["--cors-origin", "http://localhost:3000"]])
@pytest.mark.parametrize("site", ["evil.test", "127.0.0.1"])  # cross-site; same-site
def test_a_page_of_another_origin_cannot_reset_the_fake(
    browser: WebDriver, attack_port: int, site: str, cors: list[str]
) -> None:
    with ServerProcess("--log-level", "warning", *cors) as fake:
        httpx.post(f"{fake.url}{SERVICE}/CreateTask", json=task_body(), headers=KEEPER)
        _run_attack(browser, f"http://{site}:{attack_port}/?fake={fake.url}")
        assert _task_count(fake.url) == 1
        # The same request without browser headers (curl) still resets.
        assert httpx.post(f"{fake.url}/_mock/reset", content=b"{}").status_code == 200
        assert _task_count(fake.url) == 0


def test_a_page_reached_under_another_host_name_cannot_control_the_fake(
    browser: WebDriver,
) -> None:
    """DNS rebinding: the page is served from evil.test:PORT, whose name now resolves to
    the fake, so its requests to the fake are same-origin and it can read the answers.

    (Its same-origin GETs carry neither Origin nor Sec-Fetch-Site, Chromium sending the
    latter only to secure origins, so they cannot be told from curl: they are reads, acting
    for the bearer token they carry, which the page does not know.)"""
    with ServerProcess("--log-level", "warning") as fake:
        httpx.post(f"{fake.url}{SERVICE}/CreateTask", json=task_body(), headers=KEEPER)
        port = fake.url.rsplit(":", 1)[1]
        browser.get(f"http://evil.test:{port}/openapi.json")  # any page of that origin
        answer = browser.execute_async_script(
            """
            const done = arguments[arguments.length - 1];
            const scenario = '{"faults": [{"method": "*", "code": "internal"}]}';
            Promise.all([
              fetch("/_mock/scenario", {method: "PUT", body: scenario}),
              fetch("/_mock/reset", {method: "POST", body: "{}"}),
            ]).then(async (responses) => done(await Promise.all(responses.map(
                async (r) => r.status + " " + (await r.json()).code))))
              .catch((error) => done("failed " + error));
            """
        )
        assert answer == ["403 permission_denied"] * 2
        assert _task_count(fake.url) == 1
        assert httpx.get(f"{fake.url}/_mock/scenario").json()["faults"] == []


def test_the_same_page_with_allowed_host_may_control_the_fake(browser: WebDriver) -> None:
    with ServerProcess("--log-level", "warning", "--allowed-host", "evil.test") as fake:
        httpx.post(f"{fake.url}{SERVICE}/CreateTask", json=task_body(), headers=KEEPER)
        port = fake.url.rsplit(":", 1)[1]
        browser.get(f"http://evil.test:{port}/_mock/ui")
        status = browser.execute_async_script(
            """
            const done = arguments[arguments.length - 1];
            fetch("/_mock/reset", {method: "POST", body: "{}"}).then((r) => done(r.status));
            """
        )
        assert status == 200
        assert _task_count(fake.url) == 0


def test_curl_like_requests_get_the_same_rules() -> None:
    """The issue's reproductions, as raw requests: refused with browser headers, served
    without them."""
    with ServerProcess("--log-level", "warning", "--cors-origin", "*") as fake:
        port = fake.url.rsplit(":", 1)[1]
        text = {"Content-Type": "text/plain"}
        forged = httpx.post(
            f"{fake.url}/_mock/reset",
            content=b"{}",
            headers={"Origin": "http://evil.example", **text},
        )
        assert forged.status_code == 403
        assert forged.json()["code"] == "permission_denied"
        preflight = httpx.options(
            f"{fake.url}/_mock/scenario",
            headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "PUT"},
        )
        assert preflight.status_code == 403
        assert "access-control-allow-origin" not in preflight.headers
        rebound = httpx.put(
            f"{fake.url}/_mock/scenario",
            content=b'{"faults": [{"method": "*", "code": "internal"}]}',
            headers={"Host": f"attacker.example:{port}", "Sec-Fetch-Site": "same-origin"},
        )
        assert rebound.status_code == 403
        assert "--allowed-host attacker.example" in rebound.json()["message"]
        assert httpx.get(f"{fake.url}/_mock/scenario").json()["faults"] == []
        plain = httpx.post(
            f"{fake.url}/_mock/clock/advance",
            json={"seconds": 1},
            headers={"Host": f"fake:{port}"},
        )
        assert plain.status_code in (200, 409)  # not judged: a real clock says 409
        assert plain.json().get("code") != "permission_denied"
