"""The older JSON SDK (``gitpod-sdk`` 0.x) auto-paginating against a real server.

0.x installs the same top-level package (``gitpod``) as the 1.x SDK this project depends
on, so it lives in a virtual environment of its own, created once per test session. Its
list iterators send the next page's ``token`` as a URL query parameter while the body
keeps its first ``pagination``; the server must take the token from the query.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.factories import ENV, OTHER_ENV, task_body
from tests.support.server_process import ServerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# The newest 0.x that imports: 0.12.0's ``gitpod.types`` imports a module its wheel lacks
# (``gitpod.types.codex_openai_model``), so ``import gitpod`` fails there.
LEGACY_SDK = "gitpod-sdk==0.11.0"
SERVICE = "/gitpod.v1.EnvironmentAutomationService"

_LIST_SCRIPT = """
import sys
from gitpod import Gitpod

url, token, environment_id, page_size = sys.argv[1:5]
client = Gitpod(bearer_token=token, base_url=url, max_retries=0)
pages = client.environments.automations.tasks.list(
    filter={"environment_ids": [environment_id]},
    pagination={"page_size": int(page_size)},
)
for task in pages:
    print(task.id)
"""

# pip's words for "the index cannot be reached", as opposed to a real install failure.
_OFFLINE_SIGNS = (
    "No matching distribution found",
    "Could not find a version",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "ConnectionError",
    "Read timed out",
)


@pytest.fixture(scope="session")
def legacy_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The interpreter of a virtual environment with the 0.x SDK installed."""
    directory = tmp_path_factory.mktemp("legacy-sdk") / "venv"
    venv.EnvBuilder(with_pip=True).create(directory)
    python = directory / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    try:
        result = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", LEGACY_SDK],
            capture_output=True,
            text=True,
            timeout=600,
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"pip could not install {LEGACY_SDK} within 10 minutes (no PyPI?)")
    if result.returncode != 0:
        output = result.stdout + result.stderr
        if any(sign in output for sign in _OFFLINE_SIGNS):
            pytest.skip(f"pip cannot reach PyPI to install {LEGACY_SDK}:\n{output[-2000:]}")
        pytest.fail(f"pip install {LEGACY_SDK} failed:\n{output[-4000:]}")
    return python


@pytest.fixture(scope="module")
def plain_server() -> Iterator[ServerProcess]:
    with ServerProcess("--clock", "manual", "--log-level", "warning") as process:
        yield process


@pytest.mark.parametrize("page_size", [7, 25])
def test_legacy_sdk_auto_pagination_sees_every_task_once(
    legacy_python: Path, plain_server: ServerProcess, page_size: int
) -> None:
    token = f"legacy-{page_size}"
    with httpx.Client(
        base_url=plain_server.url, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        created = []
        for index in range(31):
            response = client.post(f"{SERVICE}/CreateTask", json=task_body(f"job-{index}"))
            assert response.status_code == 200, response.text
            created.append(response.json()["task"]["id"])
        # A task elsewhere: the filter must hold on every page.
        client.post(f"{SERVICE}/CreateTask", json=task_body("other", environment_id=OTHER_ENV))

    result = subprocess.run(
        [str(legacy_python), "-c", _LIST_SCRIPT, plain_server.url, token, ENV, str(page_size)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    listed = result.stdout.split()
    assert sorted(listed) == sorted(created)
    assert len(listed) == len(set(listed))
