"""The web view in a real browser: Debian's Chromium driven by Selenium and chromedriver.

Without a browser on the machine the tests skip and say why; under CI (``CI=true``) they
fail instead (see :mod:`tests.support.browser`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from tests.support.browser import headless_chromium
from tests.support.factories import MISSING, task_body
from tests.support.server_process import ServerProcess

pytestmark = pytest.mark.e2e

SERVICE = "/gitpod.v1.EnvironmentAutomationService"
TOKENS = (
    "webview-flow-7c1d9e",
    "webview-escape-52ab04",
    "webview-login-e81f3a",
    "webview-controls-0b6d27",
    "webview-faults-93e4c1",
)
FLOW, ESCAPE, LOGIN, CONTROLS, FAULTS = TOKENS
WAIT_SECONDS = 20.0  # an upper bound for the page to catch up, never a measured figure

T = TypeVar("T")


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    yield from headless_chromium()


@pytest.fixture
def server() -> Iterator[ServerProcess]:
    tokens = [arg for token in TOKENS for arg in ("--token", token)]
    # debug turns uvicorn's access log (stdout) on: a test reads it for the token.
    with ServerProcess(
        "--clock", "manual", "--pending-delay", "1", "--step-duration", "2",
        "--log-level", "debug", *tokens,
    ) as process:  # fmt: skip
        yield process


def _api(server: ServerProcess, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0
    )


def _call(client: httpx.Client, method: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"{SERVICE}/{method}", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _wait(browser: WebDriver, condition: Callable[[WebDriver], T], what: str) -> T:
    def attempt(driver: WebDriver) -> T | None:
        try:
            return condition(driver)
        except StaleElementReferenceException:  # the page re-rendered under our feet
            return None

    result = WebDriverWait(browser, WAIT_SECONDS).until(attempt, f"waiting for {what}")
    assert result is not None
    return result


def _click(browser: WebDriver, css: str) -> None:
    """Click the element ``css`` names, finding it again if a re-render replaced it.

    The page re-renders what changed once a second, so an element found a moment ago
    may be gone by the time it is used: every find-and-use goes through :func:`_wait`.
    """

    def click(driver: WebDriver) -> bool:
        driver.find_element(By.CSS_SELECTOR, css).click()
        return True

    _wait(browser, click, f"a click on {css}")


def _text(browser: WebDriver, css: str) -> str:
    """The text of the first element ``css`` names ("" if none), read again if a
    re-render replaced the element between finding and reading it."""
    for _ in range(10):
        elements = browser.find_elements(By.CSS_SELECTOR, css)
        try:
            return elements[0].text if elements else ""
        except StaleElementReferenceException:
            continue
    raise AssertionError(f"{css} kept being replaced while read")


def _logs_after_stop(server: ServerProcess) -> str:
    """All the server wrote, stdout (the access log) and stderr, once it has exited."""
    server.stop()
    stdout = server.process.stdout
    assert stdout is not None
    return stdout.read() + server.output()


def _open(browser: WebDriver, server: ServerProcess, token: str) -> None:
    """Load the page through ``/`` with the token in the fragment, as a user would."""
    browser.get(f"{server.url}/#token={token}")
    _wait(browser, lambda d: d.find_element(By.ID, "main").is_displayed(), "the tenant's view")


def test_webview_starts_a_task_advances_the_clock_and_shows_succeeded(
    browser: WebDriver, server: ServerProcess
) -> None:
    _open(browser, server, FLOW)
    with _api(server, FLOW) as api:
        build = _call(api, "CreateTask", task_body("build"))["task"]
        test = _call(api, "CreateTask", task_body("test", dependsOn=[build["id"]]))["task"]

        row = f'tr[data-task-id="{test["id"]}"]'
        _wait(browser, lambda d: _text(d, row + " td.name") == "Test", "the task in the list")
        assert "Build" in _text(browser, row)  # its dependency, by name
        _click(browser, row + " button.start")

        card = "article.execution"
        _wait(browser, lambda d: _text(d, card + " .badge") == "PENDING", "the new execution")
        execution_id = _wait(
            browser,
            lambda d: d.find_element(By.CSS_SELECTOR, card).get_attribute("data-execution-id"),
            "the execution's id",
        )
        assert execution_id

        seconds = browser.find_element(By.ID, "advance-seconds")
        seconds.clear()
        seconds.send_keys("10")
        _click(browser, "#advance")
        card = f'article.execution[data-execution-id="{execution_id}"]'
        _wait(browser, lambda d: _text(d, card + " .badge") == "SUCCEEDED", "SUCCEEDED")

        # The page moved the server's clock, not just its own picture of it.
        read = _call(api, "GetTaskExecution", {"id": execution_id})["taskExecution"]
        assert read["status"]["phase"] == "TASK_EXECUTION_PHASE_SUCCEEDED"

    def lanes(driver: WebDriver) -> list[tuple[str, str]]:
        return [
            (
                lane.find_element(By.CSS_SELECTOR, ".label").text,
                "".join(e.text for e in lane.find_elements(By.CSS_SELECTOR, ".step-phase")),
            )
            for lane in driver.find_elements(By.CSS_SELECTOR, card + " .lane")
        ]

    assert _wait(browser, lanes, "the timeline's lanes") == [
        ("pending", ""),
        ("Build", "SUCCEEDED"),
        ("Test", "SUCCEEDED"),
    ]

    # The logs, opened from the page.
    _click(browser, card + " button.logs")
    _wait(browser, lambda d: "[Test] step succeeded" in _text(d, card + " pre.log"), "the logs")
    assert "[Build] step started" in _text(browser, card + " pre.log")

    # The journal: the page's StartTask, opened, shows the request and the response.
    _click(browser, 'tr.request[data-method="StartTask"]')
    request = _wait(browser, lambda d: _text(d, "pre.request-body"), "the request body")
    response = _text(browser, "pre.response-body")
    assert test["id"] in request
    assert execution_id in response
    assert "TASK_EXECUTION_PHASE_PENDING" in response

    # The token left the address bar, and never reached the server's logs.
    assert FLOW not in browser.current_url
    log = _logs_after_stop(server)
    assert "GET /_mock/overview HTTP/1.1" in log  # the access log is on: its silence counts
    assert "POST /_mock/clock/advance HTTP/1.1" in log
    assert FLOW not in log


def test_webview_shows_user_data_as_text_never_as_markup(
    browser: WebDriver, server: ServerProcess
) -> None:
    name = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
    with _api(server, ESCAPE) as api:
        task = _call(api, "CreateTask", task_body("xss", metadata={"name": name, "reference": "x"}))
    _open(browser, server, ESCAPE)
    row = f'tr[data-task-id="{task["task"]["id"]}"]'
    _wait(browser, lambda d: _text(d, row + " td.name") == name, "the task's name as text")
    assert browser.find_elements(By.CSS_SELECTOR, "#tasks img, #tasks script") == []
    assert browser.execute_script("return window.pwned === undefined") is True


def test_webview_asks_for_a_token_and_follows_the_servers_rules(
    browser: WebDriver, server: ServerProcess
) -> None:
    browser.get(f"{server.url}/_mock/ui")
    browser.execute_script("sessionStorage.clear()")
    browser.refresh()
    _wait(browser, lambda d: d.find_element(By.ID, "login").is_displayed(), "the token form")

    # The server accepts only its --token list, and the page says so.
    browser.find_element(By.ID, "token-input").send_keys("not-a-listed-token\n")
    _wait(browser, lambda d: "not accepted" in _text(d, "#message"), "the refusal")
    assert browser.find_element(By.ID, "login").is_displayed()

    browser.find_element(By.ID, "token-input").send_keys(LOGIN + "\n")
    _wait(browser, lambda d: d.find_element(By.ID, "main").is_displayed(), "the tenant's view")
    _wait(browser, lambda d: "No tasks yet" in _text(d, "#tasks"), "the empty tenant")
    assert browser.execute_script("return sessionStorage.length") == 1


def test_webview_stops_an_execution_and_resets_the_tenant(
    browser: WebDriver, server: ServerProcess
) -> None:
    with _api(server, CONTROLS) as api:
        task = _call(api, "CreateTask", task_body("build"))["task"]
        execution = _call(api, "StartTask", {"id": task["id"]})["taskExecution"]
        _open(browser, server, CONTROLS)
        card = f'article.execution[data-execution-id="{execution["id"]}"]'
        _wait(browser, lambda d: _text(d, card + " .badge") == "PENDING", "the execution")
        _click(browser, card + " button.stop")
        _wait(browser, lambda d: _text(d, card + " .badge") == "STOPPED", "STOPPED")
        read = _call(api, "GetTaskExecution", {"id": execution["id"]})["taskExecution"]
        assert read["status"]["phase"] == "TASK_EXECUTION_PHASE_STOPPED"
        assert browser.find_elements(By.CSS_SELECTOR, card + " button.stop") == []

        _click(browser, "#reset")
        browser.switch_to.alert.accept()  # "Forget every task ... of this tenant?"
        _wait(browser, lambda d: "No tasks yet" in _text(d, "#tasks"), "the emptied tenant")
        assert "No executions yet" in _text(browser, "#executions")
        listed = api.post(f"{SERVICE}/ListTasks", json={}).json()
        assert listed == {"pagination": {}}


def test_webview_shows_faults_and_what_the_journal_did_not_keep(
    browser: WebDriver, server: ServerProcess
) -> None:
    scenario = {"faults": [{"method": "GetTask", "code": "unavailable", "times": 1}]}
    big = task_body(
        "big", metadata={"name": "Big", "reference": "big", "description": "x" * 40_000}
    )
    with _api(server, FAULTS) as api:
        assert api.put("/_mock/scenario", json=scenario).status_code == 200
        faulted = api.post(f"{SERVICE}/GetTask", json={"id": MISSING})
        assert faulted.status_code == 503
        _call(api, "CreateTask", big)  # larger than the journal keeps of one message
    _open(browser, server, FAULTS)
    _wait(browser, lambda d: "code: unavailable" in _text(d, "#scenario ol.faults"), "the fault")
    row = 'tr.request[data-method="GetTask"]'
    assert _text(browser, row + " .fault-tag") == "fault"
    assert "unavailable" in _text(browser, row)
    _click(browser, row)
    _wait(browser, lambda d: '"kind"' in _text(d, "pre.fault-body"), "the fault's record")

    _click(browser, 'tr.request[data-method="CreateTask"]')
    request = _wait(browser, lambda d: _text(d, "pre.request-body"), "the request")
    assert request.startswith("(not kept: ")
    assert "bytes, more than the journal keeps of one message)" in request
