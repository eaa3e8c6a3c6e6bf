"""Take the README's screenshot of the web view: ``python docs/webview_screenshot.py``.

Starts a fake in process, gives one tenant a few tasks, a scenario and executions in every
phase, opens the page in Debian's headless Chromium (``apt-get install chromium
chromium-driver``) with a task in detail and a call opened, and writes ``docs/webview.png``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from mockserver.testing import MockServer

ENV = "07e03a28-65a5-4d98-b532-8ea67b188048"
OUT = Path(__file__).resolve().parent / "webview.png"
SCENARIO = """
rules:
  - match: {reference: "^lint$"}
    outcome: fail
    duration: 1
    failure_message: "exit status 2: 3 style errors"
    logs: ["ruff check .", "3 errors"]
  - match: {command: "pytest"}
    duration: 4
    logs: ["collected 128 items", "128 passed"]
latency: {GetTask: 0.05}
faults:
  - method: GetTask
    code: unavailable
    times: 1
"""


def _task(server: MockServer, reference: str, command: str, *deps: str) -> str:
    body: dict[str, Any] = {
        "environmentId": ENV,
        "metadata": {"name": reference.title(), "reference": reference},
        "spec": {"command": command},
        "dependsOn": list(deps),
    }
    task_id: str = server.call("CreateTask", body)["task"]["id"]
    return task_id


def main() -> int:
    with MockServer(clock="manual", token="demo", scenario=SCENARIO) as server:
        build = _task(server, "build", "make build")
        lint = _task(server, "lint", "ruff check .")
        test = _task(server, "test", "pytest -q", build)
        package = _task(server, "package", "make dist", test, lint)
        server.call("StartTask", {"id": lint})
        server.advance(3)
        stopped = server.call("StartTask", {"id": build})["taskExecution"]["id"]
        server.advance(1.5)
        server.call("StopTaskExecution", {"id": stopped})
        server.call("StartTask", {"id": test})
        server.advance(7)
        server.call("StartTask", {"id": package})
        server.advance(5.5)
        server.call("StartTask", {"id": test})
        server.advance(2)  # this one is RUNNING: its Build step is half done
        get_task = f"{server.url}/gitpod.v1.EnvironmentAutomationService/GetTask"
        server.client.post(get_task, json={"id": build}, headers=server.headers)  # faulted

        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for argument in ("--headless=new", "--no-sandbox", "--window-size=1400,1330"):
            options.add_argument(argument)
        browser = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
        try:
            browser.get(f"{server.url}/#token={server.token}")
            time.sleep(1.5)  # the first poll
            browser.find_element(By.CSS_SELECTOR, f'#tasks a[data-task-id="{test}"]').click()
            browser.find_elements(By.CSS_SELECTOR, 'tr.request[data-method="StartTask"]')[0].click()
            time.sleep(1.5)  # the next poll, and the call's curl command
            browser.save_screenshot(str(OUT))
        finally:
            browser.quit()
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
