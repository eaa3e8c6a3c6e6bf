"""A real server process per module, on a manual clock with a failing scenario rule."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.openapi_check import ResponseChecker
from tests.support.server_process import ServerProcess

SERVICE = "/gitpod.v1.EnvironmentAutomationService"

SCENARIO = """
rules:
  - match: {reference: "^flaky"}
    outcome: fail
    duration: 3
    failure_message: "exit status 2"
    output: {exitCode: "2"}
    logs: ["running tests", "1 failed"]
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    scenario = tmp_path_factory.mktemp("scenario") / "scenario.yaml"
    scenario.write_text(SCENARIO)
    with ServerProcess(
        "--clock", "manual", "--pending-delay", "1", "--step-duration", "2",
        "--scenario", str(scenario), "--log-level", "warning",
    ) as process:  # fmt: skip
        yield process


@pytest.fixture(scope="module")
def checker(document: dict[str, Any]) -> ResponseChecker:
    return ResponseChecker(document)


@pytest.fixture
def token(request: pytest.FixtureRequest) -> str:
    """A tenant of its own for every test."""
    return f"e2e-{request.node.name}"


@pytest.fixture
def api(server: ServerProcess, checker: ResponseChecker, token: str) -> Iterator[httpx.Client]:
    """httpx for the API; every response under the service is checked against the document."""

    def check(response: httpx.Response) -> None:
        if response.request.url.path.startswith(SERVICE + "/"):
            response.read()
            checker.check(response)

    with httpx.Client(
        base_url=server.url,
        headers={"Authorization": f"Bearer {token}"},
        event_hooks={"response": [check]},
        timeout=10.0,
    ) as client:
        yield client
