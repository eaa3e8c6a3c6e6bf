"""The web view in a real browser: Debian's Chromium driven by Selenium and chromedriver.

Without a browser on the machine the tests skip and say why; under CI (``CI=true``) they
fail instead (see :mod:`tests.support.browser`).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from gitpod.v1 import environment_automation_pb2 as pb
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select
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
    "webview-tenant-a-4d0c11",
    "webview-tenant-b-9e7f52",
    "webview-select-31b8aa",
    "webview-journal-c2e946",
    "webview-curl-70da1f",
    "webview-detail-b85c03",
    "webview-scenario-1f6e2d",
    "webview-logs-6a93d0",
)
FLOW, ESCAPE, LOGIN, CONTROLS, FAULTS = TOKENS[:5]
TENANT_A, TENANT_B, SELECT, JOURNAL, CURL, DETAIL, SCENARIO, LOGS = TOKENS[5:]
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


def _wait_text(browser: WebDriver, css: str, ready: Callable[[str], bool], what: str) -> str:
    """The text of ``css`` once ``ready`` accepts it."""

    def read(driver: WebDriver) -> str | None:
        text = _text(driver, css)
        return text if ready(text) else None

    text = _wait(browser, read, what)
    assert isinstance(text, str)
    return text


def _displayed(browser: WebDriver, css: str) -> bool:
    """Whether an element ``css`` names is on screen (absent counts as not)."""
    for _ in range(10):
        try:
            return any(e.is_displayed() for e in browser.find_elements(By.CSS_SELECTOR, css))
        except StaleElementReferenceException:
            continue
    raise AssertionError(f"{css} kept being replaced while read")


def _shown(browser: WebDriver) -> bool:
    """The tenant's view is on screen: its panels filled by a first poll, the form gone."""
    return (
        _displayed(browser, "#executions-count")
        and _text(browser, "#tasks-count").startswith("(")
        and not _displayed(browser, "#login")
    )


def _open(browser: WebDriver, server: ServerProcess, token: str) -> None:
    """Load the page through ``/`` with the token in the fragment, as a user would."""
    browser.get(f"{server.url}/#token={token}")
    _wait(browser, _shown, "the tenant's view")


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
    _wait(browser, _shown, "the tenant's view")
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


def _row(task_id: str) -> str:
    return f'#tasks tr[data-task-id="{task_id}"]'


def test_webview_token_form_hides_the_view_and_change_token_forgets_the_tenant(
    browser: WebDriver, server: ServerProcess
) -> None:
    with _api(server, TENANT_A) as api:
        task = _call(api, "CreateTask", task_body("build"))["task"]
        _call(api, "StartTask", {"id": task["id"]})
    browser.get(f"{server.url}/_mock/ui")
    browser.execute_script("sessionStorage.clear()")
    browser.refresh()
    _wait(browser, lambda d: _displayed(d, "#login"), "the token form")
    # The form alone: no empty panels beneath it.
    for panel in ("#main", "#executions", "#tasks", "#requests", "#scenario"):
        assert not _displayed(browser, panel), panel

    browser.find_element(By.ID, "token-input").send_keys(TENANT_A + "\n")
    _wait(browser, lambda d: _displayed(d, _row(task["id"])), "tenant A's task")
    assert _displayed(browser, "article.execution")
    _click(browser, "#forget")
    _wait(browser, lambda d: _displayed(d, "#login"), "the token form again")
    for shown in (_row(task["id"]), "article.execution", "tr.request", "#main"):
        assert not _displayed(browser, shown), shown

    # Another tenant: nothing of the first comes back, not even for a moment.
    browser.find_element(By.ID, "token-input").send_keys(TENANT_B + "\n")
    assert browser.find_elements(By.CSS_SELECTOR, _row(task["id"])) == []
    _wait(browser, lambda d: "No tasks yet" in _text(d, "#tasks"), "tenant B's empty view")
    assert browser.find_elements(By.CSS_SELECTOR, "article.execution, tr.request") == []


def test_webview_keeps_an_open_request_and_a_selection_in_it_across_polls(
    browser: WebDriver, server: ServerProcess
) -> None:
    with _api(server, SELECT) as api:
        _call(api, "CreateTask", task_body("build"))
        _open(browser, server, SELECT)
        _click(browser, 'tr.request[data-method="CreateTask"]')
        _wait(browser, lambda d: "make build" in _text(d, "pre.request-body"), "the request")
        # Select the request's text as a user would to copy it (Selection API).
        selected = browser.execute_script(
            """
            const pre = document.querySelector("pre.request-body");
            const range = document.createRange();
            range.selectNodeContents(pre);
            getSelection().removeAllRanges();
            getSelection().addRange(range);
            window.selectedPre = pre;
            return getSelection().toString();
            """
        )
        assert "make build" in selected
        # New calls arrive and the page shows each: several polls, each with a change.
        for count in range(2, 5):
            _call(api, "ListTasks", {})
            label = f"({count} in the journal)"
            _wait_text(browser, "#requests-count", label.__eq__, label)
    survived = browser.execute_script(
        """
        const pre = document.querySelector("pre.request-body");
        const kept = window.selectedPre;
        return [getSelection().toString(), kept.isConnected, pre === kept];
        """
    )
    assert survived == [selected, True, True]
    assert "open" in (
        browser.find_element(By.CSS_SELECTOR, 'tr.request[data-method="CreateTask"]').get_attribute(
            "class"
        )
        or ""
    )
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr.request")) == 4


def test_webview_keeps_a_selection_in_open_logs_while_lines_arrive(
    browser: WebDriver, server: ServerProcess
) -> None:
    with _api(server, LOGS) as api:
        task = _call(api, "CreateTask", task_body("build"))["task"]
        execution = _call(api, "StartTask", {"id": task["id"]})["taskExecution"]
        api.post("/_mock/clock/advance", json={"seconds": 1.5})  # running: first lines
        _open(browser, server, LOGS)
        card = f'article.execution[data-execution-id="{execution["id"]}"]'
        _click(browser, card + " button.logs")
        first = _wait_text(browser, card + " pre.log", lambda t: "step started" in t, "logs")
        selected = browser.execute_script(
            """
            const pre = document.querySelector(arguments[0]);
            getSelection().selectAllChildren(pre);
            window.selectedLog = pre;
            return getSelection().toString();
            """,
            card + " pre.log",
        )
        assert selected == first
        api.post("/_mock/clock/advance", json={"seconds": 10})  # the step ends: more lines
        _wait_text(browser, card + " pre.log", lambda t: "succeeded" in t, "the new lines")
    kept = browser.execute_script(
        "return [getSelection().toString(), window.selectedLog === document.querySelector("
        "arguments[0])]",
        card + " pre.log",
    )
    # (A pre's last line break is not part of its selected text until more text follows.)
    assert [kept[0].rstrip("\n"), kept[1]] == [selected, True]


def test_webview_follows_a_new_token_in_the_fragment_of_an_open_tab(
    browser: WebDriver, server: ServerProcess
) -> None:
    with _api(server, TENANT_A) as api:
        task_a = _call(api, "CreateTask", task_body("build"))["task"]
    with _api(server, TENANT_B) as api:
        task_b = _call(api, "CreateTask", task_body("lint"))["task"]
    _open(browser, server, TENANT_A)
    _wait(browser, lambda d: _displayed(d, _row(task_a["id"])), "tenant A's task")
    browser.execute_script("window.sameDocument = true")

    browser.get(f"{server.url}/_mock/ui#token={TENANT_B}")  # the same page: no reload
    _wait(browser, lambda d: _displayed(d, _row(task_b["id"])), "tenant B's task")
    assert browser.find_elements(By.CSS_SELECTOR, _row(task_a["id"])) == []
    assert browser.execute_script("return window.sameDocument") is True
    assert TENANT_B not in browser.current_url  # the fragment left the address bar
    assert browser.execute_script("return Object.values(sessionStorage)") == [TENANT_B]


def test_webview_filters_the_journal_and_pages_past_the_newest_100(
    browser: WebDriver, server: ServerProcess
) -> None:
    with _api(server, JOURNAL) as api:
        _call(api, "CreateTask", task_body("build"))
        assert api.post(f"{SERVICE}/GetTask", json={"id": MISSING}).status_code == 404
        for size in range(1, 121):
            _call(api, "ListTasks", {"pagination": {"pageSize": 1 + size % 100}})
    _open(browser, server, JOURNAL)

    def rows(driver: WebDriver) -> list[str]:
        return [
            row.get_attribute("data-method") or ""
            for row in driver.find_elements(By.CSS_SELECTOR, "tr.request")
        ]

    _wait(browser, lambda d: len(rows(d)) == 100, "the newest 100")
    assert _text(browser, "#requests-count") == "(100 shown, 122 in the journal)"
    assert "CreateTask" not in rows(browser)

    # Scrolled down the journal, the reader keeps the same row in sight while a new call
    # arrives on top: the very element, neither rebuilt nor scrolled away.
    top_row = """
        const box = document.getElementById("requests");
        const edge = box.getBoundingClientRect();
        return document.elementFromPoint(edge.left + 20, edge.top + 60).closest("tr");
    """
    browser.execute_script('document.getElementById("requests").scrollTop = 300')
    before = browser.execute_script(top_row)
    position = before.get_attribute("data-position")
    with _api(server, JOURNAL) as api:
        _call(api, "ListTasks", {})
    _wait_text(browser, "#requests-count", "(100 shown, 123 in the journal)".__eq__, "123")
    after = browser.execute_script(top_row)
    assert after == before and after.get_attribute("data-position") == position

    _click(browser, "#journal-older")
    _wait(browser, lambda d: len(rows(d)) == 23, "the 23 older ones")
    assert rows(browser)[-2:] == ["GetTask", "CreateTask"]
    assert browser.find_element(By.ID, "journal-older").get_attribute("disabled") is not None
    _click(browser, "#journal-newest")
    _wait(browser, lambda d: len(rows(d)) == 100, "the newest 100 again")

    Select(browser.find_element(By.ID, "filter-method")).select_by_value("CreateTask")
    _wait(browser, lambda d: rows(d) == ["CreateTask"], "CreateTask calls only")
    Select(browser.find_element(By.ID, "filter-method")).select_by_value("")
    Select(browser.find_element(By.ID, "filter-code")).select_by_value("not_found")
    _wait(browser, lambda d: rows(d) == ["GetTask"], "not_found calls only")
    Select(browser.find_element(By.ID, "filter-code")).select_by_value("")
    browser.find_element(By.ID, "filter-text").send_keys('"pageSize":42')
    _wait(browser, lambda d: rows(d) == ["ListTasks"], "the call with that text")
    _click(browser, "tr.request")
    assert '"pageSize": 42' in _wait(browser, lambda d: _text(d, "pre.request-body"), "it")


def test_webview_shows_each_calls_duration_and_headers_but_never_the_token(
    browser: WebDriver, server: ServerProcess
) -> None:
    with _api(server, CURL) as api:
        response = api.post(
            f"{SERVICE}/ListTasks",
            json={},
            headers={"X-Request-Note": "hello", "Cookie": "session=s3cret"},
        )
        assert response.status_code == 200
    _open(browser, server, CURL)
    row = 'tr.request[data-method="ListTasks"]'
    duration = _wait(browser, lambda d: _text(d, row + " td.duration"), "the duration")
    assert float(duration) >= 0
    _click(browser, row)
    headers = _wait(browser, lambda d: _text(d, "pre.request-headers"), "the headers")
    assert "x-request-note: hello" in headers
    assert "authorization: [redacted]" in headers
    assert "cookie: [redacted]" in headers
    page = browser.find_element(By.TAG_NAME, "body").text
    assert CURL not in page and "s3cret" not in page
    assert " ms" in _text(browser, "tr.detail .call")


def _replayed(server: ServerProcess, command: str) -> dict[str, Any]:
    """Runs a curl command as a user would (bash, ``TOKEN`` set); the call it made."""
    done = subprocess.run(
        ["bash", "-c", command],
        env={**os.environ, "TOKEN": CURL},
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    with _api(server, CURL) as api:
        last: dict[str, Any] = api.get("/_mock/requests").json()["requests"][-1]
    return last


def test_webview_copies_a_call_as_curl_that_sends_it_again(
    browser: WebDriver, server: ServerProcess
) -> None:
    binary = pb.ListTasksRequest(pagination={"page_size": 3}).SerializeToString()
    with _api(server, CURL) as api:
        _call(api, "ListTasks", {"pagination": {"pageSize": 7}})
        headers = {"Content-Type": "application/proto"}
        assert api.post(f"{SERVICE}/ListTasks", content=binary, headers=headers).is_success
    _open(browser, server, CURL)
    _wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "tr.request")) == 2, "2 calls")
    for position, page_size in ((2, 3), (1, 7)):  # newest first: the binary call on top
        _click(browser, f'tr.request[data-position="{position}"]')
        curl = f'tbody[data-entry-id="{position}"] pre.curl'
        command = _wait_text(
            browser, curl, lambda text: text.startswith(("curl", "printf")), "the command"
        )
        assert "$TOKEN" in command and CURL not in command
        replay = _replayed(server, command)
        assert replay["request"] == {"pagination": {"pageSize": page_size}}
        assert replay["code"] == "ok"
    _click(browser, 'tbody[data-entry-id="1"] button.copy-curl')
    _wait(browser, lambda d: "curl command" in _text(d, "#message"), "copied (or selected)")


def test_webview_shows_a_task_in_detail_with_links_to_its_dependencies(
    browser: WebDriver, server: ServerProcess
) -> None:
    env = [{"name": "MODE", "value": "ci"}]
    with _api(server, DETAIL) as api:
        build = _call(api, "CreateTask", task_body("build"))["task"]
        test = _call(
            api,
            "CreateTask",
            task_body("test", dependsOn=[build["id"]], spec={"command": "pytest -q", "env": env}),
        )["task"]
        package = _call(api, "CreateTask", task_body("package", dependsOn=[test["id"]]))["task"]
        run = _call(api, "StartTask", {"id": test["id"]})["taskExecution"]
        _call(api, "StartTask", {"id": build["id"]})  # not one of Test's executions
    _open(browser, server, DETAIL)
    assert not _displayed(browser, "#task-detail")
    _click(browser, f'{_row(test["id"])} a.task-link[data-task-id="{test["id"]}"]')
    detail = "#task-detail"
    _wait(browser, lambda d: _text(d, detail + " .detail-name") == "Test", "Test in detail")
    assert _text(browser, detail + " pre.command") == "pytest -q"
    assert "MODE" in _text(browser, detail + " table.env") and "ci" in _text(
        browser, detail + " table.env"
    )
    assert test["environmentId"] in _text(browser, detail)
    assert _text(browser, detail + " .depends-on") == "Build"
    assert _text(browser, detail + " .needed-by") == "Package"
    runs = browser.find_elements(By.CSS_SELECTOR, detail + " .runs li")
    assert [r.get_attribute("data-execution-id") for r in runs] == [run["id"]]

    _click(browser, detail + " .depends-on a")  # a dependency is a link to its detail
    _wait(browser, lambda d: _text(d, detail + " .detail-name") == "Build", "Build in detail")
    assert _text(browser, detail + " .needed-by") == "Test"
    assert package["id"] not in _text(browser, detail)
    _click(browser, detail + " button.close")
    _wait(browser, lambda d: not _displayed(d, detail), "the detail closed")

    # A task's link, followed (as from another tab): the address names the task.
    href = browser.find_element(By.CSS_SELECTOR, f'a.task-link[data-task-id="{package["id"]}"]')
    assert (href.get_attribute("href") or "").endswith(f"#task={package['id']}")
    browser.get(f"{server.url}/_mock/ui#task={package['id']}")
    _wait(browser, lambda d: _text(d, detail + " .detail-name") == "Package", "Package")
    assert "#" not in browser.current_url
    # A fresh page: a tenant and one of its tasks, from the address alone.
    browser.get("about:blank")
    browser.get(f"{server.url}/_mock/ui#token={DETAIL}&task={build['id']}")
    _wait(browser, lambda d: _text(d, detail + " .detail-name") == "Build", "Build, at load")


def test_webview_edits_the_scenario_with_the_servers_errors_in_place(
    browser: WebDriver, server: ServerProcess
) -> None:
    _open(browser, server, SCENARIO)
    _click(browser, "#scenario-edit")
    # The editor opens once the scenario's YAML has come.
    _wait(browser, lambda d: _displayed(d, "#scenario-yaml"), "the editor")
    area = browser.find_element(By.ID, "scenario-yaml")
    assert area.get_attribute("value") == ""

    def apply(text: str) -> None:
        area.clear()
        area.send_keys(text)
        _click(browser, "#scenario-apply")

    apply("rules:\n- outcome: explode\n")
    error = _wait_text(browser, "#scenario-error", bool, "the error")
    assert _displayed(browser, "#scenario-error")
    assert "outcome" in error and "explode" in error and error.endswith("(line 2)")
    line = browser.execute_script(
        "const a = arguments[0]; return a.value.slice(a.selectionStart, a.selectionEnd)", area
    )
    assert line == "- outcome: explode"  # the line the error is about, selected
    assert area.is_displayed() and "explode" in (area.get_attribute("value") or "")

    apply("faults: [\n")  # not YAML: the server names the line
    _wait(browser, lambda d: "line" in _text(d, "#scenario-error"), "the line of the error")

    apply("faults:\n- method: GetTask\n  code: unavailable\n")
    _wait(browser, lambda d: not _displayed(d, "#scenario-editor"), "the editor closed")
    _wait(browser, lambda d: "code: unavailable" in _text(d, "#scenario ol.faults"), "the fault")
    with _api(server, SCENARIO) as api:
        assert api.get("/_mock/scenario").json()["faults"][0]["code"] == "unavailable"
        assert api.post(f"{SERVICE}/GetTask", json={"id": MISSING}).status_code == 503

    _click(browser, "#scenario-edit")  # the editor shows what is in force, as YAML
    _wait(browser, lambda d: "code: unavailable" in (area.get_attribute("value") or ""), "YAML")
    apply("")  # empty: no faults (sent as {}, never an empty body)
    # The editor closes once the server has taken the scenario; only then is the read below
    # ordered after the PUT (the faults' list is hidden while the editor is open anyway).
    _wait(browser, lambda d: not _displayed(d, "#scenario-editor"), "the editor closed")
    _wait(browser, lambda d: not _displayed(d, "#scenario ol.faults"), "the faults gone")
    with _api(server, SCENARIO) as api:
        assert api.get("/_mock/scenario").json()["faults"] == []
