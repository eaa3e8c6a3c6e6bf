"""The pre-flight tells "not this API" from "a broken implementation of it".

Each server here is a real process that is not an EnvironmentAutomationService: the
stdlib's ``python -m http.server``, a static page, a JSON service that answers 200 to
anything, a 404 page. Against each the CLI says so in one line and exits 2 before any
suite starts; against the fake it goes on.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from contracts.config import version
from tests.support.foreign_server import ForeignServer
from tests.support.server_process import REPO_ROOT

pytestmark = [pytest.mark.e2e]


def _contracts(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "contracts", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
    )


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (
            "http.server",
            "does not answer as an EnvironmentAutomationService: ListTasks got HTTP 501",
        ),
        (
            "static",
            "does not answer as an EnvironmentAutomationService: ListTasks got HTTP 200 text/html",
        ),
        # ListTasks echoed back fits ListTasksResponse; an id echoed back is no GetTaskResponse.
        (
            "json",
            "does not answer as an EnvironmentAutomationService: GetTask of an unknown id got "
            "HTTP 200 application/json",
        ),
        ("html404", "no EnvironmentAutomationService at"),
    ],
)
def test_preflight_names_a_server_that_is_not_the_api(
    kind: str, message: str, tmp_path: Path
) -> None:
    (tmp_path / "index.html").write_text("<html>static</html>", encoding="utf-8")
    with ForeignServer(kind, str(tmp_path)) as url:
        result = _contracts("--base-url", url, "--seed", "1")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one line: no suite started, no traceback
    assert lines[0].startswith("contracts: error: ") and url in lines[0], lines[0]
    assert message in lines[0]
    assert lines[0].endswith("check --base-url")


def test_preflight_lets_the_fake_through(mock_url: str) -> None:
    result = _contracts("--base-url", mock_url, "--only", "auth", "--max-examples", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASSED" in result.stdout


def test_contracts_version() -> None:
    result = _contracts("--version")
    assert (result.returncode, result.stdout) == (0, f"contracts {version()}\n")
    assert version() == metadata.version("ona-automation-fake")
